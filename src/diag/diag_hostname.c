/* The server certificate's names (subjectAltName, else CN) against the host the client
 * checks (--tls-server-name, else the host it connects to), as mbedTLS matches them; and the
 * warning that devices on mbedTLS < 3.5 cannot match an IP address by an iPAddress SAN. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "common/tls_facts.h"
#include "diag_ctx.h"

static bool wildcard_match(const char *pattern, const char *host)
{
    /* RFC 6125 6.4.3 as mbedTLS does it: "*." + rest matches exactly one extra left label. */
    if (strncmp(pattern, "*.", 2) != 0) {
        return strcasecmp(pattern, host) == 0;
    }
    const char *dot = strchr(host, '.');
    return dot != NULL && dot != host && strcasecmp(pattern + 1, dot) == 0;
}

/* Matched by an iPAddress SAN: right, and what mqtls does on any mbedTLS. But mbedTLS before
 * 3.5 (x509_crt_verify_name) compares the host only with dNSName SANs, so a device on it fails
 * unless the address is also listed as a dNSName. */
static void warn_ip_san_old_mbedtls(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *leaf,
                                    const char *ip)
{
    for (size_t i = 0; i < leaf->san_dns_count; i++) {
        if (strcasecmp(leaf->san_dns[i], ip) == 0) {
            return; /* old devices match the address as a DNS name */
        }
    }
    char by_name[400] = "";
    if (leaf->san_dns_count > 0 && strncmp(leaf->san_dns[0], "*.", 2) != 0) {
        char q[300];
        mqtls__diag_shq(q, sizeof q, leaf->san_dns[0]);
        mqtls__setf(by_name, sizeof by_name,
                    "Let devices check a DNS name of the certificate while connecting by address "
                    "(esp-mqtt: broker.verification.common_name = \"%s\"; mqtls: "
                    "--tls-server-name %s). ",
                    leaf->san_dns[0], q);
    }
    mqtls__diag_add(c, MQTLS__F_IP_SAN_OLD_MBEDTLS,
                    mqtls__diag_describe(c, "server certificate (depth 0)", leaf),
                    mqtls__diag_fix_reissue_server(
                        c,
                        by_name[0] != '\0'
                            ? by_name
                            : "List the address as a DNS name too (old mbedTLS then matches it "
                              "as text).",
                        ip),
                    "The certificate is valid for the IP address '%s' through an iPAddress "
                    "subjectAltName, which mqtls%s accepts. Devices whose mbedTLS is older than "
                    "3.5 (ESP-IDF 4.x and early 5.x) never match iPAddress SANs and will fail "
                    "with -0x2700, verify flags 0x04 (CN_MISMATCH), when they connect by this "
                    "address.",
                    ip,
                    c->in->facts != NULL && c->in->facts->ip_san_matched_by_us
                        ? " (matching it itself on this mbedTLS)"
                        : "");
}

void mqtls__diag_check_hostname(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *leaf)
{
    const char *name = c->in->server_name != NULL ? c->in->server_name : c->in->host;
    if (name == NULL || name[0] == '\0') {
        return;
    }
    uint8_t want[16];
    uint8_t have[16];
    bool is_v4 = inet_pton(AF_INET, name, want) == 1;
    bool is_ip = is_v4 || inet_pton(AF_INET6, name, want) == 1;
    bool ok = false;
    if (is_ip) {
        for (size_t i = 0; i < leaf->san_ip_count && !ok; i++) {
            int af = strchr(leaf->san_ip[i], ':') != NULL ? AF_INET6 : AF_INET;
            ok = (af == AF_INET) == is_v4 && inet_pton(af, leaf->san_ip[i], have) == 1 &&
                 memcmp(want, have, is_v4 ? 4 : 16) == 0;
        }
    } else {
        for (size_t i = 0; i < leaf->san_dns_count && !ok; i++) {
            ok = wildcard_match(leaf->san_dns[i], name);
        }
        if (leaf->san_dns_count == 0 && leaf->san_ip_count == 0) {
            ok = leaf->common_name[0] != '\0' && wildcard_match(leaf->common_name, name);
        }
    }
    if (ok && is_ip) {
        warn_ip_san_old_mbedtls(c, leaf, name);
    }
    if (ok) {
        return;
    }
    char names[320] = "";
    for (size_t i = 0; i < leaf->san_dns_count; i++) {
        mqtls__appendf(names, sizeof names, "%sDNS:%s", names[0] ? ", " : "", leaf->san_dns[i]);
    }
    for (size_t i = 0; i < leaf->san_ip_count; i++) {
        mqtls__appendf(names, sizeof names, "%sIP:%s", names[0] ? ", " : "", leaf->san_ip[i]);
    }
    /* Least destructive first: check a name the certificate has (--tls-server-name keeps the
     * address), then a new certificate that adds this one to all the old names. */
    const char *alt = NULL;
    for (size_t i = 0; i < leaf->san_dns_count && alt == NULL; i++) {
        if (strncmp(leaf->san_dns[i], "*.", 2) != 0) {
            alt = leaf->san_dns[i];
        }
    }
    char hint[700];
    if (alt != NULL && is_ip) {
        char q[300];
        mqtls__diag_shq(q, sizeof q, alt);
        mqtls__setf(hint, sizeof hint,
                    "Keep the address and check a name the certificate has: --tls-server-name "
                    "%s (esp-mqtt: broker.verification.common_name = \"%s\").\nOr, for a "
                    "certificate valid for '%s' too:",
                    q, alt, name);
    } else if (alt != NULL) {
        char q[300];
        mqtls__diag_shq(q, sizeof q, alt);
        mqtls__setf(hint, sizeof hint,
                    "Connect by a name the certificate has (-h %s), or keep '%s' and check that "
                    "name: --tls-server-name %s.\nOr, for a certificate valid for '%s' too:",
                    q, name, q, name);
    } else {
        mqtls__setf(hint, sizeof hint, "The certificate must name '%s':", name);
    }
    const char *subject = mqtls__diag_describe(c, "server certificate (depth 0)", leaf);
    const char *fix = mqtls__diag_fix_reissue_server(c, hint, NULL);
    if (names[0] == '\0') {
        mqtls__diag_add(c, MQTLS__F_HOSTNAME_MISMATCH, subject, fix,
                        "You connect to '%s' but the server's certificate has no "
                        "subjectAltName; its CN is '%s'.%s",
                        name, leaf->common_name,
                        is_ip ? " An IP address is only matched by an IP subjectAltName." : "");
        return;
    }
    mqtls__diag_add(c, MQTLS__F_HOSTNAME_MISMATCH, subject, fix,
                    "You connect to %s '%s' but the server's certificate is only valid for: %s "
                    "(CN '%s' is ignored when subjectAltName is present).%s",
                    is_ip ? "the IP address" : "the host name", name, names, leaf->common_name,
                    is_ip && leaf->san_ip_count == 0
                        ? " The certificate lists no IP address: connect by one of its names, or "
                          "re-issue it with an IP SAN."
                    : !is_ip && leaf->san_dns_count == 0
                        ? " The certificate lists only IP addresses: connect by IP."
                        : "");
}
