/* The unit tests' random numbers: xorshift32, the same on every run and machine. */
#ifndef CAMWATCH_TEST_XORSHIFT_H
#define CAMWATCH_TEST_XORSHIFT_H

#include <stdint.h>

static uint32_t rng = 2463534242u;

static inline uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

#endif /* CAMWATCH_TEST_XORSHIFT_H */
