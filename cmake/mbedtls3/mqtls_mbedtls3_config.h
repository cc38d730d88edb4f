/* mqtls's configuration of mbedTLS 3.6 LTS: MBEDTLS_USER_CONFIG_FILE, read after upstream's
 * default include/mbedtls/mbedtls_config.h (the same layering as ESP-IDF 5.x's esp_config.h).
 *
 * Goal: judge certificates and handshakes the way an ESP-IDF 5.x device with default
 * menuconfig settings does, so every line below is either "ESP-IDF's default differs from
 * upstream" or "mqtls needs it on a host", never a taste. docs/mbedtls3.md explains each.
 * Hardware ports (AES/SHA/MPI/ECC accelerators, ROM tables, entropy, esp_mem allocators) are
 * not modelled: they change speed and memory, not what is accepted or rejected.
 * Written for mqtls; not derived from ESP-IDF's files.
 */
#ifndef MQTLS_MBEDTLS3_CONFIG_H
#define MQTLS_MBEDTLS3_CONFIG_H

/* ---- mqtls requirements (ESP-IDF 5.x has these off by default; devices turn them on) ---- */

/* TLS 1.3 client and server (ESP-IDF: CONFIG_MBEDTLS_SSL_PROTO_TLS1_3, default n). Upstream
 * 3.6 has it on; listed so that no later edit drops it. Needs PSA crypto, on upstream. */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_HKDF_C /* PSA derives HKDF from it; ESP-IDF selects it with TLS 1.3 */

/* The library runs a client on its own thread (mqtls_client_start) while the caller's thread
 * may verify certificates: mbedTLS's global state (PSA key store, RNG) needs the mutexes.
 * ESP-IDF: CONFIG_MBEDTLS_THREADING_C default n (ALT = FreeRTOS mutexes when on). */
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

/* Shrink the I/O buffers after the handshake (ESP-IDF: default n). mqtls bench keeps
 * thousands of connections; each saves ~16 KiB of input buffer once idle. */
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH

/* The debug module: mqtls reads the peer's TLS alert from it (3.x does not expose it; see
 * STYLE.md example 4). ESP-IDF: CONFIG_MBEDTLS_DEBUG default n, commonly turned on to debug. */
#define MBEDTLS_DEBUG_C

/* TLS-PSK (mqtls_tls_cfg_t::psk, --psk) on this engine too: the plain PSK key exchange of TLS
 * 1.2 (ESP-IDF: CONFIG_MBEDTLS_PSK_MODES + CONFIG_MBEDTLS_KEY_EXCHANGE_PSK, default n; a device
 * that uses a PSK turns them on). With no DHM and no ChaCha20 here (ESP-IDF's defaults), its PSK
 * suites are PSK with AES-GCM; the (EC)DHE-PSK ones stay off as on the device. mbedTLS offers a
 * PSK suite only when a PSK is configured: certificate handshakes offer the same suites. */
#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED

/* ---- ESP-IDF 5.x defaults that differ from upstream 3.6 ---- */

/* Record sizes: ESP-IDF uses asymmetric buffers by default (CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN
 * = y, IN 16384, OUT 4096). A device cannot send a handshake message (e.g. its certificate
 * chain) longer than 4096 bytes; mqtls must hit the same limit to diagnose it. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/* Features ESP-IDF leaves out (Kconfig default n, or removed in esp_config.h). */
#undef MBEDTLS_CAMELLIA_C
#undef MBEDTLS_DES_C
#undef MBEDTLS_CHACHA20_C
#undef MBEDTLS_CHACHAPOLY_C
#undef MBEDTLS_POLY1305_C
#undef MBEDTLS_DHM_C
#undef MBEDTLS_CMAC_C
#undef MBEDTLS_NIST_KW_C
#undef MBEDTLS_RIPEMD160_C
#undef MBEDTLS_SHA3_C
#undef MBEDTLS_ECJPAKE_C
#undef MBEDTLS_KEY_EXCHANGE_ECJPAKE_ENABLED
/* MBEDTLS_KEY_EXCHANGE_PSK_ENABLED: on above (TLS-PSK); the others as CONFIG_MBEDTLS_PSK_MODES = n */
#undef MBEDTLS_KEY_EXCHANGE_DHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED /* needs DHM_C */
#undef MBEDTLS_ECP_DP_CURVE448_ENABLED      /* esp_config.h removes it */
#undef MBEDTLS_SSL_CONTEXT_SERIALIZATION
#undef MBEDTLS_SSL_KEYING_MATERIAL_EXPORT
#undef MBEDTLS_SSL_PROTO_DTLS
#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY
#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY
#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#undef MBEDTLS_SSL_DTLS_CONNECTION_ID
#undef MBEDTLS_SSL_DTLS_CONNECTION_ID_COMPAT
#undef MBEDTLS_SSL_DTLS_SRTP
#undef MBEDTLS_NET_C    /* ESP-IDF has its own port; mqtls has src/net */
#undef MBEDTLS_TIMING_C /* ESP-IDF removes it; mqtls has its own clock */

/* AES tables as constants (ESP-IDF defines it): no table generation at first use. */
#define MBEDTLS_AES_ROM_TABLES

/* ESP-IDF's CONFIG_MBEDTLS_ECP_FIXED_POINT_OPTIM defaults to n (saves RAM, slower ECDSA
 * signing and ECDH on the fixed generator); upstream's default is 1. */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

/* ESP-IDF 5.x removes the deprecated API: code that builds here builds on a device. */
#define MBEDTLS_DEPRECATED_REMOVED

/* ---- Kept on although ESP-IDF's default is off ---- */

/* MBEDTLS_HAVE_TIME_DATE (ESP-IDF: CONFIG_MBEDTLS_HAVE_TIME_DATE default n, i.e. a device
 * without it never rejects an expired or not-yet-valid certificate). A host has a clock, and
 * verification must check validity (DESIGN.md "Security defaults"); src/diag models the
 * device that does not. Upstream's default (on) is kept, so nothing is written here. */

/* Everything required and not listed here is upstream's default and stays on: TLS 1.2 ECDHE
 * key exchanges, MBEDTLS_SSL_MAX_FRAGMENT_LENGTH, MBEDTLS_SSL_KEEP_PEER_CERTIFICATE,
 * MBEDTLS_SSL_SRV_C, X.509 crt/crl/csr parse, crt/csr write, pk parse/write, PEM, ECDSA
 * (deterministic), RSA (PKCS#1 v1.5 and PSS), curves secp192/224/256/384/521 r1,
 * secp192/224/256 k1, brainpool 256/384/512, Curve25519, AES-NI (MBEDTLS_AESNI_C). */

#endif /* MQTLS_MBEDTLS3_CONFIG_H */
