/*
 * Fuzz target: credential masking (common/url.c). The property, checked on
 * every input: a password never appears in the masked output, whether it
 * was registered as a secret, registered from a URL the way the
 * configuration does it, or only embedded in a URL of the line. Also checks
 * that a short output buffer is never overrun and always terminated (ASan).
 *
 * Input: a mode byte, an output size byte, then NUL-separated strings.
 *   mode 0: secret, text: cw_url_add_secret(secret), mask text
 *   mode 1: url, before, after: cw_url_register_secrets(url), mask
 *           before + url + after (a log line quoting the camera's URL)
 *   mode 2: before, user, password, host, after, nothing registered: mask
 *           "before rtsp://user:password@host after"
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "url.h"

#include <ctype.h>

/* A password is only required to be absent when it can be told apart from
 * the mask: one of 4 characters or more (shorter ones are not registered,
 * see cw_url_add_secret) with no '*' (the mask is "***"). */
static int checkable(const char *pw, size_t len)
{
    return len >= 4 && !memchr(pw, '*', len);
}

static int hex(int c)
{
    if (isdigit(c))
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The percent-decoded form of s[0..len), into out (len + 1 bytes). */
static size_t decode(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (i + 2 < len && s[i] == '%' && hex((unsigned char)s[i + 1]) >= 0 &&
            hex((unsigned char)s[i + 2]) >= 0) {
            out[n++] = (char)(hex((unsigned char)s[i + 1]) * 16 + hex((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return n;
}

/* Mask `text` twice: into a buffer large enough for all of it (returned,
 * malloc'ed), and into one of exactly `small` bytes, which must hold a
 * terminated prefix. */
static char *mask(const char *text, size_t small)
{
    size_t len = strlen(text);
    size_t big_size = 4 * len + 4; /* "***" for an empty password is the growth */
    char *big = malloc(big_size);
    char *tiny = malloc(small ? small : 1);
    FUZZ_ASSERT(big && tiny, "out of memory");
    size_t n = cw_url_mask_credentials(text, big, big_size);
    FUZZ_ASSERT(n == strlen(big) && n + 1 < big_size, "returned %zu for \"%s\"", n, big);
    size_t t = cw_url_mask_credentials(text, tiny, small);
    if (small) {
        FUZZ_ASSERT(t < small && t == strlen(tiny), "short buffer: returned %zu of %zu", t, small);
        FUZZ_ASSERT(strncmp(tiny, big, t) == 0, "short buffer holds another text: \"%s\"", tiny);
    } else {
        FUZZ_ASSERT(t == 0, "returned %zu for a buffer of 0 bytes", t);
    }
    free(tiny);
    return big;
}

/* The password `pw` (and its decoded form) is not in `out`. */
static void assert_hidden(const char *out, const char *pw, size_t len, const char *text)
{
    char *dec = malloc(len + 1);
    FUZZ_ASSERT(dec, "out of memory");
    size_t dlen = decode(pw, len, dec);
    if (checkable(pw, len))
        FUZZ_ASSERT(!memmem(out, strlen(out), pw, len), "password \"%.*s\" leaks: \"%s\" -> \"%s\"",
                    (int)len, pw, text, out);
    if (checkable(dec, dlen))
        FUZZ_ASSERT(!memmem(out, strlen(out), dec, dlen),
                    "decoded password \"%s\" leaks: \"%s\" -> \"%s\"", dec, text, out);
    free(dec);
}

/* s with every character of `drop` removed (in place). */
static void strip(char *s, const char *drop)
{
    char *o = s;
    for (char *p = s; *p; p++)
        if (!strchr(drop, *p))
            *o++ = *p;
    *o = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    int mode = (int)(fuzz_u64(&in, 1) % 3);
    size_t small = (size_t)fuzz_u64(&in, 1) % 80;
    char *s[5] = {NULL};
    char *text = NULL, *out = NULL;

    cw_url_clear_secrets();
    for (int i = 0; i < 5; i++)
        s[i] = fuzz_string(&in, 512);
    if (mode == 0) {
        FUZZ_ASSERT(cw_url_add_secret(s[0]) == 0, "cw_url_add_secret failed");
        out = mask(s[1], small);
        assert_hidden(out, s[0], strlen(s[0]), s[1]);
    } else if (mode == 1) {
        FUZZ_ASSERT(cw_url_register_secrets(s[0]) == 0, "cw_url_register_secrets failed");
        FUZZ_ASSERT(asprintf(&text, "%s%s%s", s[1], s[0], s[2]) >= 0, "out of memory");
        out = mask(text, small);
        const char *pw;
        size_t len;
        if (cw_url_password(s[0], s[0] + strlen(s[0]), &pw, &len))
            assert_hidden(out, pw, len, text);
    } else {
        /* A URL in a line ends at white space or a quote; the user has no
         * ':' or '@', the host no '@': the password is exactly s[2]. */
        strip(s[1], " \t\n\"':@");
        strip(s[2], " \t\n\"'");
        strip(s[3], " \t\n\"'@");
        FUZZ_ASSERT(asprintf(&text, "%s rtsp://%s:%s@%s %s", s[0], s[1], s[2], s[3], s[4]) >= 0,
                    "out of memory");
        out = mask(text, small);
        char *masked = NULL;
        FUZZ_ASSERT(asprintf(&masked, " rtsp://%s:***@%s ", s[1], s[3]) >= 0, "out of memory");
        FUZZ_ASSERT(strstr(out, masked), "\"%s\" -> \"%s\" lacks \"%s\"", text, out, masked);
        free(masked);
        /* A password of "***" reads the same masked or not: nothing to see. */
        if (strcmp(s[2], "***") != 0) {
            FUZZ_ASSERT(asprintf(&masked, "rtsp://%s:%s@", s[1], s[2]) >= 0, "out of memory");
            FUZZ_ASSERT(!strstr(out, masked), "\"%s\" -> \"%s\" shows the password", text, out);
            free(masked);
        }
    }
    free(out);
    free(text);
    for (int i = 0; i < 5; i++)
        free(s[i]);
    return 0;
}
