/*
 * What camwatch's libFuzzer targets share: a property that fails aborts
 * with the reason on stderr, so libFuzzer records the input as a crash
 * (and ASan/UBSan abort on their own findings). Each target is one file,
 * tests/fuzz/<target>.c, with its seed corpus in tests/fuzz/corpus/<target>/.
 */
#ifndef CAMWATCH_FUZZ_H
#define CAMWATCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property violated: %s: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A reader of fuzz input, in the spirit of LLVM's FuzzedDataProvider. */
typedef struct FuzzInput {
    const uint8_t *data;
    size_t left;
} FuzzInput;

static inline uint64_t fuzz_u64(FuzzInput *in, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes && in->left; i++, in->left--)
        v = v << 8 | *in->data++;
    return v;
}

/* Up to `max` bytes up to the next NUL of the input (consumed), as a
 * malloc'ed C string the caller frees (NULL: out of memory). */
static inline char *fuzz_string(FuzzInput *in, size_t max)
{
    size_t n = 0;
    while (n < in->left && n < max && in->data[n])
        n++;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, in->data, n);
        s[n] = '\0';
    }
    in->data += n;
    in->left -= n;
    if (in->left) { /* the terminating NUL */
        in->data++;
        in->left--;
    }
    return s;
}

#endif /* CAMWATCH_FUZZ_H */
