/*
 * File-system helpers for record: the durability steps a clip needs before
 * it may appear in VIDEO_DIR (write, fsync, then rename, then fsync the
 * directory).
 *
 * Errors: every function returns 0 or a negative errno.
 */
#ifndef CAMWATCH_RECORD_FSUTIL_H
#define CAMWATCH_RECORD_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: create `path` and its missing parents with `mode`. An existing
 * directory is success; an existing non-directory is -ENOTDIR. */
int rec_mkdir_p(const char *path, mode_t mode);

/* Open `path` read-only (a file or a directory) and fsync it. */
int rec_fsync_path(const char *path);

/* Create or truncate `path`, write `len` bytes, fsync and close it. On
 * failure the partial file is removed (it would only mislead). */
int rec_write_file(const char *path, const void *data, size_t len);

/* True if `path` exists (any type). */
bool rec_path_exists(const char *path);

/*
 * The first of `name`, `name`-1, `name`-2 … (into `base`) for which no
 * "dir/base.ext" exists, for each of the `n` extensions. Returns 0,
 * -ENAMETOOLONG, or -EEXIST after 1000 tries.
 */
int rec_free_base(const char *dir, const char *name, const char *const *exts, int n, char *base,
                  size_t size);

/* rename(2) that refuses to replace an existing `to` (-EEXIST). Falls back
 * to a check-then-rename on file systems without RENAME_NOREPLACE. */
int rec_rename_noreplace(const char *from, const char *to);

/* snprintf that reports truncation: 0, or -ENAMETOOLONG. */
int rec_path_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* CAMWATCH_RECORD_FSUTIL_H */
