/* libFuzzer target: mqtls explain on arbitrary text (src/explain): a pasted "log" of any bytes
 * (NULs, long lines, broken UTF-8), and the same bytes as command-line arguments (split at
 * NUL and newline). Invariants: no crash or out-of-bounds access (ASan); every string the
 * result hands out is NUL-terminated and bounded; the counts stay within what was stored; the
 * text fed in two pieces (at a line break) is as safe. The two may explain differently: a
 * line's context (an ESP-IDF log prefix, a broker log) does not carry across calls.
 * Also linked into replay_main.c for ctest under gcc. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "mqtls/explain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(const mqtls_explain_t *r)
{
    size_t n = mqtls_explain_cause_count(r);
    for (size_t i = 0; i < n; i++) {
        const mqtls_explain_cause_t *c = mqtls_explain_cause(r, i);
        CHECK(c != NULL);
        CHECK(strlen(mqtls_explain_cause_id(c)) > 0);
        CHECK(strlen(mqtls_explain_cause_evidence(c)) < 65536u);
        CHECK(strlen(mqtls_explain_cause_note(c)) < 65536u);
    }
    CHECK(mqtls_explain_cause(r, n) == NULL);
    size_t k = mqtls_explain_input_count(r);
    for (size_t i = 0; i < k; i++) {
        const mqtls_explain_input_t *in = mqtls_explain_input(r, i);
        CHECK(in != NULL);
        CHECK(strlen(mqtls_explain_input_text(in)) < 65536u);
        CHECK(strlen(mqtls_explain_input_meaning(in)) < 65536u);
        CHECK(strlen(mqtls_explain_input_kind(in)) > 0);
    }
    CHECK(mqtls_explain_input(r, k) == NULL);
    for (size_t i = 0; i < mqtls_explain_unparsed_count(r); i++) {
        CHECK(mqtls_explain_unparsed(r, i) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mqtls_explain_t *whole = NULL;
    CHECK(mqtls_explain_create(&whole) == MQTLS_OK);
    mqtls_status_t st = mqtls_explain_text(whole, (const char *)data, size);
    CHECK(st == MQTLS_OK || st == MQTLS_ERR_NOT_SUPPORTED);
    mqtls_explain_finish(whole);
    check_result(whole);
    CHECK(mqtls_explain_text(whole, "x", 1) == MQTLS_ERR_INVALID_ARG); /* after finish */

    /* The same text in two pieces cut after a newline: logs arrive in reads. */
    const uint8_t *nl = size > 0 ? memchr(data, '\n', size) : NULL;
    if (nl != NULL) {
        size_t cut = (size_t)(nl - data) + 1u;
        mqtls_explain_t *split = NULL;
        CHECK(mqtls_explain_create(&split) == MQTLS_OK);
        (void)mqtls_explain_text(split, (const char *)data, cut);
        (void)mqtls_explain_text(split, (const char *)data + cut, size - cut);
        mqtls_explain_finish(split);
        check_result(split);
        mqtls_explain_destroy(split);
    }
    mqtls_explain_destroy(whole);

    /* As arguments: each NUL- or newline-separated word. */
    mqtls_explain_t *args = NULL;
    CHECK(mqtls_explain_create(&args) == MQTLS_OK);
    char word[256];
    size_t w = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\0' || data[i] == '\n' || w == sizeof word - 1u) {
            word[w] = '\0';
            if (w > 0) {
                st = mqtls_explain_arg(args, word);
                CHECK(st == MQTLS_OK || st == MQTLS_ERR_NOT_SUPPORTED);
            }
            w = 0;
            continue;
        }
        word[w++] = (char)data[i];
    }
    mqtls_explain_finish(args);
    check_result(args);
    mqtls_explain_destroy(args);
    return 0;
}
