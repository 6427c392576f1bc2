#define _GNU_SOURCE
#include "url.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Shorter secrets are masked only inside URLs (see cw_url_add_secret). */
#define SECRET_MIN_LEN 4

static char **url_secrets; /* owned copies; the array grows by one per secret */
static size_t url_secret_count;

/* Query parameters that carry a password in some cameras' URLs. */
static const char *const password_params[] = {"password=", "passwd=", "pwd=", "pass="};

bool cw_url_password(const char *url, const char *url_end, const char **start, size_t *len)
{
    const char *auth = strstr(url, "://");
    /* "://" must lie wholly before url_end, or the '@' search below would
     * run over a negative length. */
    if (!auth || url_end - auth < 3)
        return false;
    auth += 3;
    const char *at = memrchr(auth, '@', (size_t)(url_end - auth));
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon)
        return false;
    *start = colon + 1;
    *len = (size_t)(at - colon - 1);
    return true;
}

static int add_one_secret(const char *s, size_t len)
{
    /* A decoded "%00" ends the secret: no C string can carry what follows,
     * and an empty secret would match everywhere. */
    len = strnlen(s, len);
    if (len < SECRET_MIN_LEN)
        return 0;
    for (size_t i = 0; i < url_secret_count; i++)
        if (strlen(url_secrets[i]) == len && memcmp(url_secrets[i], s, len) == 0)
            return 0;
    char *copy = strndup(s, len);
    char **grown =
        copy ? realloc(url_secrets, (url_secret_count + 1) * sizeof(*url_secrets)) : NULL;
    if (!grown) {
        free(copy);
        return -ENOMEM;
    }
    url_secrets = grown;
    url_secrets[url_secret_count++] = copy; /* the registry owns the copy */
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* `len` bytes of `secret`, and their percent-decoded form. */
static int add_secret_span(const char *secret, size_t len)
{
    char *decoded = NULL;
    size_t n = 0;
    int ret = add_one_secret(secret, len);
    if (ret < 0)
        goto end;
    decoded = malloc(len + 1);
    if (!decoded) {
        ret = -ENOMEM;
        goto end;
    }
    for (const char *p = secret; p < secret + len; p++) {
        if (p + 2 < secret + len && p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            decoded[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else {
            decoded[n++] = *p;
        }
    }
    ret = add_one_secret(decoded, n);

end:
    free(decoded);
    return ret;
}

int cw_url_add_secret(const char *secret)
{
    return add_secret_span(secret, strlen(secret));
}

int cw_url_register_secrets(const char *url)
{
    const char *pw;
    size_t len;
    int ret = 0;
    if (cw_url_password(url, url + strlen(url), &pw, &len))
        ret = add_secret_span(pw, len);
    for (const char *q = strpbrk(url, "?&"); q && ret == 0; q = strpbrk(q + 1, "?&")) {
        for (size_t i = 0; i < sizeof(password_params) / sizeof(password_params[0]); i++) {
            size_t n = strlen(password_params[i]);
            if (ret == 0 && strncasecmp(q + 1, password_params[i], n) == 0)
                ret = add_secret_span(q + 1 + n, strcspn(q + 1 + n, "&#"));
        }
    }
    return ret;
}

void cw_url_clear_secrets(void)
{
    for (size_t i = 0; i < url_secret_count; i++)
        free(url_secrets[i]);
    free(url_secrets);
    url_secrets = NULL;
    url_secret_count = 0;
}

size_t cw_url_mask_credentials(const char *in, char *out, size_t out_size)
{
    size_t o = 0;
    /* The password of the URL being copied: the user before it is scanned
     * like any text, as it may hold a registered secret itself (a camera's
     * "admin:admin"). NULL when no URL is being copied. */
    const char *hide = NULL, *hide_end = NULL;
    if (!out_size)
        return 0;
    for (const char *p = in; *p && o + 1 < out_size;) {
        if (hide && p >= hide) {
            for (const char *m = "***"; *m && o + 1 < out_size; m++)
                out[o++] = *m;
            if (p < hide_end)
                p = hide_end;
            hide = NULL;
            continue;
        }
        /* A registered secret anywhere. */
        bool hit = false;
        for (size_t i = 0; i < url_secret_count && !hit; i++) {
            size_t len = strlen(url_secrets[i]);
            if (strncmp(p, url_secrets[i], len) == 0) {
                for (const char *m = "***"; *m && o + 1 < out_size; m++)
                    out[o++] = *m;
                p += len;
                hit = true;
            }
        }
        if (hit)
            continue;
        /* "://user:password@": keep the user, hide the password. A URL in
         * a line ends at white space or a quote. */
        const char *pw;
        size_t pw_len;
        if (!hide && p[0] == ':' && p[1] == '/' && p[2] == '/' &&
            cw_url_password(p, p + strcspn(p, " \t\n\"'"), &pw, &pw_len)) {
            hide = pw;
            hide_end = pw + pw_len;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return o;
}
