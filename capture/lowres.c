#include "lowres.h"

int capture_lowres_size(int size, int lowres)
{
    /* AV_CEIL_RSHIFT: a 1/2^n picture keeps a partial last block. */
    return -((-size) >> lowres);
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
