/* aead_cost: what one TLS record's AEAD costs in the linked mbedTLS, to put the per-message
 * instruction counts of bench_client in context (run under callgrind by bench/run.sh).
 *
 * usage: aead_cost gcm|chachapoly RECORD_BYTES COUNT
 * Seals COUNT records of RECORD_BYTES plaintext (13-byte TLS 1.2 AAD, 16-byte tag) with
 * AES-256-GCM or ChaCha20-Poly1305 through mbedtls_cipher_auth_encrypt_ext(), the call path
 * mbedtls_ssl_encrypt_buf uses (the _ext form: mbedTLS >= 2.26). Run with COUNT and 2*COUNT
 * and subtract for instr/record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/cipher.h>

static unsigned char key[32];
static unsigned char iv[12];
static unsigned char aad[13];
static unsigned char in[16384 + 256];
static unsigned char out[16384 + 256 + 16];

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: aead_cost gcm|chachapoly RECORD_BYTES COUNT\n");
        return 2;
    }
    mbedtls_cipher_type_t type = MBEDTLS_CIPHER_AES_256_GCM;
    size_t iv_len = 12;
    if (strcmp(argv[1], "chachapoly") == 0) {
        type = MBEDTLS_CIPHER_CHACHA20_POLY1305;
    } else if (strcmp(argv[1], "gcm") != 0) {
        fprintf(stderr, "aead_cost: gcm or chachapoly\n");
        return 2;
    }
    size_t len = strtoul(argv[2], NULL, 10);
    unsigned long count = strtoul(argv[3], NULL, 10);
    const mbedtls_cipher_info_t *info = mbedtls_cipher_info_from_type(type);
    if (info == NULL || len == 0 || len > sizeof(in)) {
        fprintf(stderr, "aead_cost: cipher not in this mbedTLS, or bad length\n");
        return 1;
    }
    mbedtls_cipher_context_t ctx;
    mbedtls_cipher_init(&ctx);
    if (mbedtls_cipher_setup(&ctx, info) != 0 ||
        mbedtls_cipher_setkey(&ctx, key, 256, MBEDTLS_ENCRYPT) != 0) {
        fprintf(stderr, "aead_cost: setup failed\n");
        return 1;
    }
    for (unsigned long i = 0; i < count; i++) {
        size_t olen = 0;
        iv[11] = (unsigned char)i;
        int rc = mbedtls_cipher_auth_encrypt_ext(&ctx, iv, iv_len, aad, sizeof(aad), in, len,
                                                 out, sizeof(out), &olen, 16);
        if (rc != 0) {
            fprintf(stderr, "aead_cost: encrypt failed -0x%04X\n", (unsigned)-rc);
            return 1;
        }
    }
    mbedtls_cipher_free(&ctx);
    printf("RESULT prog=aead_cost cipher=%s record=%zu count=%lu\n", argv[1], len, count);
    return 0;
}
