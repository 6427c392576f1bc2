#define _GNU_SOURCE
#include "clips.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A sidecar is small; anything bigger is not one of record's. */
#define SIDECAR_MAX_BYTES (256 * 1024)

bool http_clips_date_ok(const char *date)
{
    static const char pattern[] = "dddd-dd-dd";
    if (strlen(date) != sizeof(pattern) - 1)
        return false;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == 'd' ? !isdigit((unsigned char)date[i]) : date[i] != '-')
            return false;
    return true;
}

static int compare_desc(const void *a, const void *b)
{
    return -strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in `dir` that `keep` accepts, sorted newest (greatest) first; NULL when empty. */
static char **sorted_names(const char *dir, bool (*keep)(const char *), size_t *count)
{
    char **names = NULL;
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    *count = 0;
    while (d && (e = readdir(d))) {
        if (!keep(e->d_name))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof(*names));
        char *copy = strdup(e->d_name);
        if (!grown || !copy) {
            free(copy);
            names = grown ? grown : names;
            break; /* out of memory: list what we have */
        }
        names = grown;
        names[n++] = copy;
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), compare_desc);
    *count = n;
    return names;
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static bool is_sidecar(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static cJSON *read_sidecar(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = malloc(SIDECAR_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, SIDECAR_MAX_BYTES, f) : 0;
    fclose(f);
    cJSON *doc = NULL;
    if (text && n < SIDECAR_MAX_BYTES) {
        text[n] = '\0';
        doc = cJSON_Parse(text);
    }
    free(text);
    return doc;
}

static void add_url(cJSON *clip, const char *key, const char *day, const char *file)
{
    char url[512];
    if (!file) {
        cJSON_AddNullToObject(clip, key);
        return;
    }
    snprintf(url, sizeof(url), "/clips/%s/%s", day, file);
    cJSON_AddStringToObject(clip, key, url);
}

cJSON *http_clips_list(const char *video_dir, const char *date, int limit)
{
    char path[PATH_MAX + 600];
    cJSON *list = cJSON_CreateArray();
    size_t ndays = 0;
    char **days = NULL;
    if (!list)
        return NULL;
    if (date) {
        days = malloc(sizeof(*days));
        if (days && (days[0] = strdup(date)))
            ndays = 1;
    } else {
        days = sorted_names(video_dir, http_clips_date_ok, &ndays);
    }
    int listed = 0;
    for (size_t d = 0; d < ndays && listed < limit; d++) {
        size_t nfiles;
        snprintf(path, sizeof(path), "%s/%s", video_dir, days[d]);
        char **files = sorted_names(path, is_sidecar, &nfiles);
        for (size_t i = 0; i < nfiles && listed < limit; i++) {
            snprintf(path, sizeof(path), "%s/%s/%s", video_dir, days[d], files[i]);
            cJSON *clip = read_sidecar(path);
            if (!cJSON_IsObject(clip)) {
                cJSON_Delete(clip);
                continue;
            }
            const cJSON *video = cJSON_GetObjectItemCaseSensitive(clip, "video");
            const cJSON *snap = cJSON_GetObjectItemCaseSensitive(clip, "snapshot");
            if (!cJSON_IsString(video)) { /* not a delivered clip's sidecar */
                cJSON_Delete(clip);
                continue;
            }
            cJSON_AddStringToObject(clip, "date", days[d]);
            add_url(clip, "video_url", days[d], video->valuestring);
            add_url(clip, "snapshot_url", days[d], cJSON_IsString(snap) ? snap->valuestring : NULL);
            add_url(clip, "sidecar_url", days[d], files[i]);
            cJSON_AddItemToArray(list, clip); /* the list owns it now */
            listed++;
        }
        free_names(files, nfiles);
    }
    free_names(days, ndays);
    return list;
}

static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    if (strcmp(dot, ".mp4") == 0)
        return "video/mp4";
    if (strcmp(dot, ".jpg") == 0)
        return "image/jpeg";
    if (strcmp(dot, ".json") == 0)
        return "application/json";
    return NULL;
}

/* A clip folder's file name: [A-Za-z0-9_-.], not starting with '.', one of our extensions. */
static bool file_name_ok(const char *name)
{
    if (!name[0] || name[0] == '.' || strlen(name) > 255 || !content_type_of(name))
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return false;
    return strstr(name, "..") == NULL;
}

int http_clips_open(const char *video_dir, const char *rel, uint64_t *size,
                    const char **content_type)
{
    char day[16];
    const char *slash = strchr(rel, '/');
    int dir_fd = -1, fd = -1, ret;
    struct stat st;

    if (!slash || (size_t)(slash - rel) >= sizeof(day))
        return -EACCES;
    memcpy(day, rel, (size_t)(slash - rel));
    day[slash - rel] = '\0';
    const char *name = slash + 1;
    if (!http_clips_date_ok(day) || !file_name_ok(name))
        return -EACCES;
    /* VIDEO_DIR itself is the user's choice (it may be a link); below it,
     * a link could lead anywhere: neither folder nor file may be one. */
    dir_fd = open(video_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        return -errno;
    int day_fd = openat(dir_fd, day, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ret = day_fd < 0 ? -errno : 0;
    close(dir_fd);
    if (ret < 0)
        return ret == -ELOOP || ret == -ENOTDIR ? -EACCES : ret;
    fd = openat(day_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ret = fd < 0 ? -errno : 0;
    close(day_fd);
    if (ret < 0)
        return ret == -ELOOP ? -EACCES : ret;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EACCES;
    }
    *size = (uint64_t)st.st_size;
    *content_type = content_type_of(name);
    return fd;
}

/* A decimal number of at most 19 digits at *s; advances *s. */
static bool parse_u64(const char **s, uint64_t *v)
{
    const char *p = *s;
    uint64_t n = 0;
    int digits = 0;
    while (isdigit((unsigned char)*p) && digits < 19) {
        n = n * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    if (!digits || isdigit((unsigned char)*p))
        return false;
    *s = p;
    *v = n;
    return true;
}

int http_range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *len)
{
    if (!header || strncmp(header, "bytes=", 6) != 0 || strchr(header, ','))
        return 0;
    const char *p = header + 6;
    uint64_t first = 0, last = 0;
    while (*p == ' ')
        p++;
    if (*p == '-') { /* the last N bytes */
        p++;
        if (!parse_u64(&p, &last) || *p)
            return 0;
        if (last == 0 || size == 0)
            return -ERANGE;
        *len = last < size ? last : size;
        *start = size - *len;
        return 1;
    }
    if (!parse_u64(&p, &first) || *p++ != '-')
        return 0;
    if (*p) {
        if (!parse_u64(&p, &last) || *p || last < first)
            return 0; /* malformed: ignored, the whole file is sent */
    } else {
        last = size ? size - 1 : 0;
    }
    if (first >= size)
        return -ERANGE;
    if (last >= size)
        last = size - 1;
    *start = first;
    *len = last - first + 1;
    return 1;
}
