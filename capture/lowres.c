#include "lowres.h"

int capture_lowres_size(int size, int lowres)
{
    /* A 1/2^n picture keeps a partial last block (libav's AV_CEIL_RSHIFT),
     * rounded up without shifting a negative number. */
    if (size <= 0)
        return 0;
    return (int)(((unsigned)size + (1u << lowres) - 1) >> lowres);
}

int capture_lowres_choose(int width, int max_lowres, int min_width)
{
    int n = 0;
    if (width <= 0 || min_width <= 0)
        return 0;
    while (n < max_lowres && capture_lowres_size(width, n + 1) >= min_width)
        n++;
    return n;
}
