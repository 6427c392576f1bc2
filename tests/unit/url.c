/* URL credentials: finding a URL's password, the secret registry, masking. */
#define _GNU_SOURCE
#include "check.h"
#include "url.h"

#include <stdbool.h>

/* The password cw_url_password() finds in all of `url`, or "(none)". */
static const char *password_of(const char *url, char *buf, size_t size)
{
    const char *pw;
    size_t len;
    if (!cw_url_password(url, url + strlen(url), &pw, &len))
        return "(none)";
    snprintf(buf, size, "%.*s", (int)len, pw);
    return buf;
}

static void test_password(void)
{
    char buf[64];
    CHECK(!strcmp(password_of("rtsp://admin:s3cret@10.0.0.2:554/stream1", buf, sizeof(buf)),
                  "s3cret"));
    /* The user information runs to the last '@' and its first ':' ends the
     * user: unencoded reserved characters stay in the password. */
    CHECK(!strcmp(password_of("rtsps://a:b:c@h/", buf, sizeof(buf)), "b:c"));
    CHECK(!strcmp(password_of("rtsp://u:p@ss@h/x", buf, sizeof(buf)), "p@ss"));
    CHECK(!strcmp(password_of("rtsp://u:pa/ss#x@h/x", buf, sizeof(buf)), "pa/ss#x"));
    CHECK(!strcmp(password_of("rtsp://u:@h/", buf, sizeof(buf)), ""));
    /* No password: a user alone, a port, no user information, no scheme. */
    CHECK(!strcmp(password_of("http://user@host/x", buf, sizeof(buf)), "(none)"));
    CHECK(!strcmp(password_of("rtsp://user@h:554/x", buf, sizeof(buf)), "(none)"));
    CHECK(!strcmp(password_of("rtsp://h:554/x", buf, sizeof(buf)), "(none)"));
    CHECK(!strcmp(password_of("u:pw@h", buf, sizeof(buf)), "(none)"));
    CHECK(!strcmp(password_of("/srv/cam:1@x.mp4", buf, sizeof(buf)), "(none)"));
}

/* The URL ends at url_end: nothing after it is looked at. */
static void test_password_bounded(void)
{
    const char *line = "rtsp://u:pw@h/ then mail@x";
    const char *pw;
    size_t len;
    CHECK(cw_url_password(line, line + strlen("rtsp://u:pw@h/"), &pw, &len));
    CHECK(len == 2 && !strncmp(pw, "pw", 2));
    /* An '@' only after the end is not the URL's. */
    const char *no_at = "rtsp://u:pw then mail@x";
    CHECK(!cw_url_password(no_at, no_at + strlen("rtsp://u:pw"), &pw, &len));
    /* An end inside "://" leaves no URL at all. */
    const char *url = "rtsp://u:pw@h";
    CHECK(!cw_url_password(url, url + strlen("rtsp:/"), &pw, &len));
    CHECK(!cw_url_password(url, url + strlen("rtsp:"), &pw, &len));
}

/* The masking of log lines, as every line goes through it. */
static void test_mask(void)
{
    char out[512];
    cw_url_mask_credentials("open rtsp://admin:s3cret@10.0.0.2:554/stream1 failed", out,
                            sizeof(out));
    CHECK(strcmp(out, "open rtsp://admin:***@10.0.0.2:554/stream1 failed") == 0);
    cw_url_mask_credentials("http://user@host/x and rtsps://a:b:c@h/", out, sizeof(out));
    CHECK(strcmp(out, "http://user@host/x and rtsps://a:***@h/") == 0);
    /* Registered secrets are hidden anywhere, also percent-decoded. */
    cw_url_add_secret("p%40ss");
    cw_url_mask_credentials("Authorization failed for p@ss and p%40ss", out, sizeof(out));
    CHECK_STR_LACKS(out, "p@ss");
    CHECK_STR_LACKS(out, "p%40ss");
    /* A very short password is hidden in URLs, not in every word. */
    cw_url_add_secret("p");
    cw_url_mask_credentials("open rtsp://u:p@h/ path", out, sizeof(out));
    CHECK(strcmp(out, "open rtsp://u:***@h/ path") == 0);
    /* Truncation keeps a terminated string. */
    cw_url_mask_credentials("rtsp://u:pw@h/", out, 8);
    CHECK(strlen(out) == 7);
}

/* A URL in a line ends at white space or a quote: an '@' further on is
 * not the end of its user information. */
static void test_mask_url_ends(void)
{
    char out[256];
    cw_url_clear_secrets();
    cw_url_mask_credentials("GET rtsp://h:554/x from a:b@c", out, sizeof(out));
    CHECK(!strcmp(out, "GET rtsp://h:554/x from a:b@c"));
    cw_url_mask_credentials("'rtsp://u:pw@h/' \"rtsp://v:qq@h/\"", out, sizeof(out));
    CHECK(!strcmp(out, "'rtsp://u:***@h/' \"rtsp://v:***@h/\""));
    CHECK(cw_url_mask_credentials("x", out, 1) == 0 && out[0] == '\0');
    CHECK(cw_url_mask_credentials("x", out, 0) == 0);
}

static void test_register_secrets(void)
{
    char out[256];
    cw_url_clear_secrets();
    /* The user information's password, encoded and decoded. */
    CHECK(cw_url_register_secrets("rtsp://admin:s%2Fcr3t@h/") == 0);
    cw_url_mask_credentials("401 for s/cr3t (s%2Fcr3t)", out, sizeof(out));
    CHECK(!strcmp(out, "401 for *** (***)"));
    /* A password in a query parameter, whatever its case, up to '&' or '#'. */
    CHECK(cw_url_register_secrets("http://10.0.0.9/cam?user=admin&PassWord=Qz9secret&ch=1") == 0);
    CHECK(cw_url_register_secrets("http://10.0.0.9/v?pwd=Hx7hidden#frag") == 0);
    cw_url_mask_credentials("bad Qz9secret, Hx7hidden; ch=1 admin", out, sizeof(out));
    CHECK(!strcmp(out, "bad ***, ***; ch=1 admin"));
    /* A URL without credentials registers nothing. */
    cw_url_clear_secrets();
    CHECK(cw_url_register_secrets("rtsp://10.0.0.9:554/stream?channel=1") == 0);
    cw_url_mask_credentials("rtsp 10.0.0.9 channel=1 stream", out, sizeof(out));
    CHECK(!strcmp(out, "rtsp 10.0.0.9 channel=1 stream"));
}

/* Neither the number of secrets nor their length drops one silently. */
static void test_registry_limits(void)
{
    char secret[40], line[64], out[64], long_secret[1001];
    cw_url_clear_secrets();
    for (int i = 0; i < 40; i++) {
        snprintf(secret, sizeof(secret), "secret-%02d", i);
        CHECK(cw_url_add_secret(secret) == 0);
    }
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof(line), "[secret-%02d]", i);
        cw_url_mask_credentials(line, out, sizeof(out));
        CHECK(!strcmp(out, "[***]"));
    }
    memset(long_secret, 'k', sizeof(long_secret) - 1);
    long_secret[sizeof(long_secret) - 1] = '\0';
    CHECK(cw_url_add_secret(long_secret) == 0);
    static char long_line[2048], long_out[2048];
    snprintf(long_line, sizeof(long_line), "<%s>", long_secret);
    cw_url_mask_credentials(long_line, long_out, sizeof(long_out));
    CHECK(!strcmp(long_out, "<***>"));
    /* Registering again changes nothing; forgetting unmasks. */
    CHECK(cw_url_add_secret("secret-07") == 0);
    cw_url_clear_secrets();
    cw_url_mask_credentials("[secret-07]", out, sizeof(out));
    CHECK(!strcmp(out, "[secret-07]"));
}

int main(void)
{
    RUN(test_password);
    RUN(test_password_bounded);
    RUN(test_mask);
    RUN(test_mask_url_ends);
    RUN(test_register_secrets);
    RUN(test_registry_limits);
    cw_url_clear_secrets();
    return 0;
}
