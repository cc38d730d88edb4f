/* AES-256-GCM encryption of 16 KiB records (a full TLS record) with the mbedTLS this file is
 * compiled against: built twice, bench_aes_gcm2 (Debian's 2.28) and bench_aes_gcm3 (our 3.6
 * build, mqtls::mbedtls3). Usage: bench_aes_gcm [RECORDS] (default 4096 = 64 MiB).
 * Prints the version and MB/s; bench/aes_gcm.sh runs it under callgrind for instructions/byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mbedtls/gcm.h"
#include "mbedtls/version.h"

#define RECORD_LEN 16384

static unsigned char plain[RECORD_LEN], cipher[RECORD_LEN];

/* One record per call, as a TLS 1.2/1.3 AEAD record: 12-byte nonce, 13-byte AAD, 16-byte tag. */
static int encrypt_records(mbedtls_gcm_context *gcm, long records)
{
    unsigned char iv[12] = {0}, aad[13] = {23, 3, 3, 0x40, 0x11}, tag[16];
    for (long i = 0; i < records; i++) {
        memcpy(iv + 4, &i, sizeof i);
        int rc = mbedtls_gcm_crypt_and_tag(gcm, MBEDTLS_GCM_ENCRYPT, RECORD_LEN, iv, sizeof iv,
                                           aad, sizeof aad, plain, cipher, sizeof tag, tag);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    long records = argc > 1 ? strtol(argv[1], NULL, 10) : 4096;
    if (records <= 0 || records > 1000000) {
        fprintf(stderr, "usage: %s [RECORDS 1..1000000]\n", argv[0]);
        return 2;
    }
    static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == 0) {
        rc = encrypt_records(&gcm, records);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    mbedtls_gcm_free(&gcm);
    if (rc != 0) {
        fprintf(stderr, "mbedtls_gcm: -0x%04X\n", (unsigned)-rc);
        return 1;
    }
    char version[32];
    mbedtls_version_get_string(version);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("mbedTLS %s: AES-256-GCM, %ld records of 16 KiB, %.0f MB/s\n", version, records,
           (double)records * RECORD_LEN / 1e6 / s);
    return 0;
}
