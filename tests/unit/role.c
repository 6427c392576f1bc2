/* capture's role (capture/role.c): the --role argument taken out of argv,
 * and which role each argument gives with and without DETECT_URL. */
#include "check.h"

#include "../../capture/role.h"

#include <libavutil/error.h>

#include <errno.h>

static void test_take(void)
{
    char a0[] = "camwatch-capture", a1[] = "--role=sub", a2[] = "--help";
    char *argv[] = {a0, a1, a2, NULL};
    int argc = 3;
    const char *role;
    capture_role_take(&argc, argv, &role);
    CHECK(role && strcmp(role, "sub") == 0);
    CHECK(argc == 2 && argv[1] == a2 && argv[2] == NULL);

    char *plain[] = {a0, NULL};
    argc = 1;
    capture_role_take(&argc, plain, &role);
    CHECK(role == NULL && argc == 1 && plain[1] == NULL);
}

static void test_resolve(void)
{
    static CwConfig cfg; /* large: not on the stack */
    enum CaptureRole role;
    char err[256] = "";

    /* Without DETECT_URL one capture does both; "main" is the same. */
    CHECK(capture_role_resolve(NULL, &cfg, &role, err, sizeof(err)) == 0);
    CHECK(role == CAPTURE_ROLE_BOTH);
    CHECK(capture_role_resolve("main", &cfg, &role, err, sizeof(err)) == 0);
    CHECK(role == CAPTURE_ROLE_BOTH);
    CHECK(capture_role_copies(role) && capture_role_decodes(role));
    /* sub needs DETECT_URL, and says so. */
    CHECK(capture_role_resolve("sub", &cfg, &role, err, sizeof(err)) == AVERROR(EINVAL));
    CHECK_STR_CONTAINS(err, "DETECT_URL");

    /* With DETECT_URL: main only copies, sub only decodes. */
    snprintf(cfg.detect_url, sizeof(cfg.detect_url), "rtsp://127.0.0.1/sub");
    CHECK(capture_role_resolve(NULL, &cfg, &role, err, sizeof(err)) == 0);
    CHECK(role == CAPTURE_ROLE_MAIN);
    CHECK(capture_role_copies(role) && !capture_role_decodes(role));
    CHECK(capture_role_resolve("sub", &cfg, &role, err, sizeof(err)) == 0);
    CHECK(role == CAPTURE_ROLE_SUB);
    CHECK(!capture_role_copies(role) && capture_role_decodes(role));
    CHECK(strcmp(capture_role_name(role), "sub") == 0);

    /* Anything else is refused, naming what is accepted. */
    CHECK(capture_role_resolve("both", &cfg, &role, err, sizeof(err)) == AVERROR(EINVAL));
    CHECK_STR_CONTAINS(err, "--role=both is not accepted");
    CHECK_STR_CONTAINS(err, "--role=main");
}

int main(void)
{
    test_take();
    test_resolve();
    printf("role: ok\n");
    return 0;
}
