/*
 * Minimal assertions for camwatch's unit tests: a failed check prints where
 * and why and exits 1, so the runner sees the test fail.
 */
#ifndef CAMWATCH_TEST_CHECK_H
#define CAMWATCH_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                           \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", __FILE__,      \
                    __LINE__, #a, #b, a_, b_);                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        if (!strstr((hay), (needle))) {                                                            \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, (hay),  \
                    (needle));                                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR_LACKS(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle))) {                                                             \
            fprintf(stderr, "%s:%d: \"%s\" contains \"%s\"\n", __FILE__, __LINE__, (hay),          \
                    (needle));                                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Run one test function and say so; a failing check exits before "ok". */
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        fn();                                                                                      \
        printf("ok %s\n", #fn);                                                                    \
        fflush(stdout);                                                                            \
    } while (0)

#endif /* CAMWATCH_TEST_CHECK_H */
