/* Unit test: a log message is one line, whatever the values it quotes hold. */
#include "check.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Log one message with stderr sent to a file, and read back what was written. */
static void logged(const char *value, char *out, size_t size)
{
    FILE *f = tmpfile();
    CHECK(f);
    int saved = dup(STDERR_FILENO);
    CHECK(saved >= 0 && dup2(fileno(f), STDERR_FILENO) >= 0);
    cw_log(CW_LOG_ERROR, "camera \"%s\" is unreachable", value);
    CHECK(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_one_line(void)
{
    char out[1024];
    logged("rtsp://cam/1\n2026-12-01 10:00:00.000 camwatch[1] INFO: forged", out, sizeof(out));
    CHECK(lines(out) == 1);
    CHECK_STR_CONTAINS(out, "rtsp://cam/1?2026-12-01");
    logged("a\rb\x1b[2Jc\td", out, sizeof(out));
    CHECK(lines(out) == 1);
    CHECK_STR_CONTAINS(out, "a?b?[2Jc\td"); /* tabs stay, other control bytes do not */
    logged("plain", out, sizeof(out));
    CHECK_STR_CONTAINS(out, "ERROR: camera \"plain\" is unreachable\n");
}

/* The last ERROR line is kept (capture reports it), even when LOGLEVEL hides
 * it; a WARNING is not an error. */
static void test_last_error(void)
{
    char out[1024], last[CW_LOG_LAST_ERROR_MAX];
    logged("first\nline", out, sizeof(out));
    int64_t when = cw_log_last_error(last, sizeof(last));
    CHECK(when > 0);
    CHECK(strcmp(last, "camera \"first?line\" is unreachable") == 0);
    cw_warn("only a warning");
    CHECK(cw_log_last_error(last, sizeof(last)) == when);
    cw_log_set_level(CW_LOG_CRITICAL);
    logged("hidden", out, sizeof(out));
    cw_log_set_level(CW_LOG_INFO);
    CHECK(out[0] == '\0'); /* not written */
    CHECK(cw_log_last_error(last, sizeof(last)) >= when);
    CHECK_STR_CONTAINS(last, "\"hidden\"");
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    logged(big, out, sizeof(out));
    cw_log_last_error(last, sizeof(last));
    CHECK(strlen(last) == CW_LOG_LAST_ERROR_MAX - 1); /* cut to the room kept */
}

int main(void)
{
    cw_log_init("logtest");
    RUN(test_one_line);
    RUN(test_last_error);
    return 0;
}
