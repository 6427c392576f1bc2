/*
 * Fuzz target: `.env` lines (cw_config_read_env_file, common/config.c).
 * The input is the file's contents, read through a memfd.
 *
 * Properties: it returns 0 or -EINVAL (or -ENOMEM); a failure comes with
 * one line of message naming the file; every variable it set has a name of
 * letters, digits and '_' that does not start with a digit, and a value with
 * no newline; and every one is assigned at the start of some line (a line
 * is a line, however long).
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

/* True if some line of the input assigns `key` ("KEY=" after optional
 * white space and "export "): a variable can only come from a line's start. */
static bool assigned_by_a_line(const uint8_t *data, size_t size, const char *key, size_t key_len)
{
    for (size_t at = 0; at < size;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size, p = at;
        while (p < end && isspace(data[p]))
            p++;
        if (end - p > 7 && memcmp(data + p, "export ", 7) == 0)
            for (p += 7; p < end && isspace(data[p]);)
                p++;
        if (end - p > key_len && memcmp(data + p, key, key_len) == 0) {
            size_t q = p + key_len;
            while (q < end && isspace(data[q]))
                q++;
            if (q < end && data[q] == '=')
                return true;
        }
        at = end + 1;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[512];
    int fd = memfd_create("dotenv", 0);
    FUZZ_ASSERT(fd >= 0, "memfd_create failed");
    FUZZ_ASSERT(size == 0 || write(fd, data, size) == (ssize_t)size, "write failed");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    clearenv();
    setenv("FUZZ_PRESET", "from-the-environment", 1);
    memset(err, 0, sizeof(err));
    int ret = cw_config_read_env_file(path, err, sizeof(err));
    close(fd);
    FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "returned %d (%s)", ret, err);
    if (ret < 0) {
        FUZZ_ASSERT(strstr(err, path), "message does not name the file: %s", err);
        FUZZ_ASSERT(!strchr(err, '\n') && !strchr(err, '\r'), "message of more than a line: %s",
                    err);
    }
    /* The environment wins over the file. */
    const char *preset = getenv("FUZZ_PRESET");
    FUZZ_ASSERT(preset && strcmp(preset, "from-the-environment") == 0,
                "the file overrode the environment: FUZZ_PRESET=%s", preset ? preset : "(unset)");
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        FUZZ_ASSERT(eq && eq > *e && !isdigit((unsigned char)**e), "set \"%s\"", *e);
        for (const char *k = *e; k < eq; k++)
            FUZZ_ASSERT(isalnum((unsigned char)*k) || *k == '_', "set a variable named \"%.*s\"",
                        (int)(eq - *e), *e);
        FUZZ_ASSERT(!strchr(eq, '\n'), "value with a newline: \"%s\"", *e);
        if (strncmp(*e, "FUZZ_PRESET=", 12) != 0)
            FUZZ_ASSERT(assigned_by_a_line(data, size, *e, (size_t)(eq - *e)),
                        "set \"%.*s\", which no line of the file assigns", (int)(eq - *e), *e);
    }
    return 0;
}
