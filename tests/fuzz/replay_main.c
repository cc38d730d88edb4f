/* Runs LLVMFuzzerTestOneInput over every file of a corpus directory, so the corpus is a
 * regression test under any compiler (registered in ctest by tests/unit/packet). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    static uint8_t buf[1u << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* Copy to an exact-size heap block so ASan catches any read past the input. */
    uint8_t *copy = malloc(n != 0u ? n : 1u);
    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, buf, n);
    (void)LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    return 0;
}

int main(int argc, char **argv)
{
#ifdef MQTLS_CORPUS_DIR
    const char *dir = argc > 1 ? argv[1] : MQTLS_CORPUS_DIR;
#else
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
#endif
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return 1;
    }
    unsigned count = 0;
    unsigned failed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof path) {
            failed++;
            continue;
        }
        if (run_file(path) != 0) {
            failed++;
        }
        count++;
    }
    closedir(d);
    printf("replay: %u corpus files run from %s, %u unreadable\n", count, dir, failed);
    return (count > 0u && failed == 0u) ? 0 : 1;
}
