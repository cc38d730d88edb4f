/* What a device on mbedTLS 2.28 (ESP-IDF 4.x) decides about a server certificate for the host it
 * connects to: mbedtls_x509_crt_verify() with that host as the expected name, exactly as esp-tls
 * passes it (mbedtls_ssl_set_hostname -> the handshake's verify). mbedTLS 2.28 compares the
 * name with the dNSName subjectAltNames as text, never with iPAddress ones; mqtls's own engines
 * match an IP themselves, so tests/scenarios/fix_check.sh asks this program instead to prove
 * that the ip-san-old-mbedtls fix works on such a device.
 *
 * Usage: mbedtls2_name_check CA_FILE CERT_FILE HOST
 * Prints the verify flags and mbedTLS's words for them; exit 0 accepted, 1 rejected, 2 usage or
 * a file mbedTLS cannot parse. Links the system's mbedTLS 2.28 (the tests' "mbedtls2"). */
#include <stdint.h>
#include <stdio.h>

#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s CA_FILE CERT_FILE HOST\n", argv[0]);
        return 2;
    }
    mbedtls_x509_crt ca;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    int rc = 2;
    int ret = mbedtls_x509_crt_parse_file(&ca, argv[1]);
    if (ret != 0) {
        fprintf(stderr, "%s: -0x%04X\n", argv[1], (unsigned)-ret);
        goto out;
    }
    ret = mbedtls_x509_crt_parse_file(&crt, argv[2]);
    if (ret != 0) {
        fprintf(stderr, "%s: -0x%04X\n", argv[2], (unsigned)-ret);
        goto out;
    }
    uint32_t flags = 0;
    ret = mbedtls_x509_crt_verify(&crt, &ca, NULL, argv[3], &flags, NULL, NULL);
    char info[512] = "";
    if (flags != 0) {
        (void)mbedtls_x509_crt_verify_info(info, sizeof info, "  ", flags);
    }
    printf("mbedTLS %s: %s for '%s': flags 0x%05X\n%s", MBEDTLS_VERSION_STRING,
           ret == 0 ? "accepted" : "rejected", argv[3], (unsigned)flags, info);
    rc = ret == 0 ? 0 : 1;
out:
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return rc;
}
