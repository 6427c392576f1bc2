#define _GNU_SOURCE
#include "deliver.h"
#include "reserve.h"

#include "clock.h"
#include "faststart.h"
#include "fsutil.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* environ plus the three paths, for execve() in the child: built before
 * fork() so the child only calls async-signal-safe functions. */
static char **hook_env(char *vars[3])
{
    size_t n = 0, o = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 4, sizeof(char *));
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "CLIP_PATH=", 10) == 0 ||
            strncmp(environ[i], "SNAPSHOT_PATH=", 14) == 0 ||
            strncmp(environ[i], "SIDECAR_PATH=", 13) == 0)
            continue;
        env[o++] = environ[i];
    }
    for (int i = 0; i < 3; i++)
        env[o++] = vars[i];
    env[o] = NULL;
    return env;
}

static void run_hook(const char *cmd, const char *clip, const char *snapshot, const char *sidecar)
{
    char *vars[3] = {NULL, NULL, NULL};
    char **env = NULL;
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};

    if (asprintf(&vars[0], "CLIP_PATH=%s", clip) < 0 ||
        asprintf(&vars[1], "SNAPSHOT_PATH=%s", snapshot ? snapshot : "") < 0 ||
        asprintf(&vars[2], "SIDECAR_PATH=%s", sidecar ? sidecar : "") < 0) {
        vars[0] = vars[1] = vars[2] = NULL; /* asprintf leaves them undefined */
        cw_error("cannot run ON_CLIP_READY: out of memory");
        goto end;
    }
    env = hook_env(vars);
    if (!env) {
        cw_error("cannot run ON_CLIP_READY: out of memory");
        goto end;
    }
    pid_t pid = fork();
    if (pid < 0) {
        cw_error("cannot run ON_CLIP_READY: fork: %s", strerror(errno));
        goto end;
    }
    if (pid == 0) {
        /* A command must not inherit record's ignored SIGPIPE. */
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve("/bin/sh", argv, env);
        _exit(127);
    }
    cw_debug("ON_CLIP_READY started for %s (pid %d)", clip, (int)pid);

end:
    free(env);
    for (int i = 0; i < 3; i++)
        free(vars[i]);
}

void rec_hooks_reap(void)
{
    int status;
    pid_t pid;
    /* Every child of record is an ON_CLIP_READY command. */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            cw_warn("ON_CLIP_READY (pid %d) exited with status %d", (int)pid, WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            cw_warn("ON_CLIP_READY (pid %d) was killed by signal %d", (int)pid, WTERMSIG(status));
    }
}

int rec_deliver(const CwConfig *cfg, const char *staging_mp4, RecSnapshot *snap,
                const RecClipInfo *info)
{
    char day_dir[4096], base[REC_NAME_MAX + 16];
    char jpg_tmp[4096], json_tmp[4096], mp4_dst[4096], jpg_dst[4096], json_dst[4096];
    char video_name[REC_NAME_MAX + 32], jpg_name[REC_NAME_MAX + 32], fast_tmp[4096];
    const char *video_src = staging_mp4; /* what is renamed into VIDEO_DIR */
    bool have_jpg = false, have_json = false;
    struct stat st;
    int ret;

    ret = rec_path_fmt(day_dir, sizeof(day_dir), "%s/%s", cfg->video_dir, info->day);
    if (ret < 0)
        goto end;
    bool new_day = stat(day_dir, &st) < 0;
    ret = rec_mkdir_p(day_dir, 0755);
    if (ret < 0) {
        cw_error("cannot create %s: %s", day_dir, strerror(-ret));
        goto end;
    }
    if (new_day)
        rec_fsync_path(cfg->video_dir); /* the new folder's entry, durable */
    static const char *const exts[] = {"mp4", "jpg", "json"};
    ret = rec_free_base(day_dir, info->name, exts, 3, base, sizeof(base));
    if (ret < 0) {
        cw_error("no free file name for %s in %s: %s", info->name, day_dir, strerror(-ret));
        goto end;
    }
    if (rec_path_fmt(jpg_tmp, sizeof(jpg_tmp), "%s/%s.jpg.part", cfg->staging_dir, base) < 0 ||
        rec_path_fmt(json_tmp, sizeof(json_tmp), "%s/%s.json.part", cfg->staging_dir, base) < 0 ||
        rec_path_fmt(mp4_dst, sizeof(mp4_dst), "%s/%s.mp4", day_dir, base) < 0 ||
        rec_path_fmt(jpg_dst, sizeof(jpg_dst), "%s/%s.jpg", day_dir, base) < 0 ||
        rec_path_fmt(json_dst, sizeof(json_dst), "%s/%s.json", day_dir, base) < 0) {
        ret = -ENAMETOOLONG;
        cw_error("clip paths under %s are too long", day_dir);
        goto end;
    }
    snprintf(video_name, sizeof(video_name), "%s.mp4", base);
    snprintf(jpg_name, sizeof(jpg_name), "%s.jpg", base);

    /* Fast start: the clip as delivered has its index in front. Made before
     * the snapshot and the sidecar go in, so they never wait for their
     * video. A copy that fails (a full disk) costs only the fast start: the
     * fragmented file as written plays in every player that reads MP4. */
    if (rec_path_fmt(fast_tmp, sizeof(fast_tmp), "%s/%s.mp4.faststart", cfg->staging_dir, base) ==
        0) {
        unlink(fast_tmp); /* a copy a crash interrupted */
        int64_t t0_ns = cw_mono_ns();
        int fs = rec_faststart(staging_mp4, fast_tmp);
        if (fs == 0) {
            video_src = fast_tmp;
            cw_debug("%s: fast-start copy took %.1f ms", info->name,
                     (double)(cw_mono_ns() - t0_ns) / 1e6);
        } else {
            cw_warn("clip %s is delivered as recorded (fragmented MP4, no fast start): cannot "
                    "write its fast-start copy %s: %s",
                    info->name, fast_tmp, av_err2str(fs));
        }
    }

    /* The small sidecar is written first, naming the snapshot to come: on a
     * nearly full disk a snapshot that does not fit must not cost the
     * sidecar too (retention recognises a clip by its sidecar). If the
     * snapshot fails, its blocks are given back and the sidecar is written
     * again without it. Then the renames: snapshot, sidecar (naming the
     * snapshot only once it is in place), the video last. A failure of the
     * first two is logged and costs only them. */
    bool want_jpg = snap && rec_snapshot_has_frame(snap);
    /* The room held while the clip recorded is theirs now (reserve.h). */
    rec_reserve_release(staging_mp4);
    ret = rec_sidecar_write(json_tmp, info, video_name, want_jpg ? jpg_name : NULL);
    bool json_ok = ret == 0;
    if (want_jpg && rec_snapshot_write(snap, jpg_tmp) == 0) {
        ret = rec_rename_noreplace(jpg_tmp, jpg_dst);
        if (ret < 0) {
            cw_error("cannot move %s to %s: %s", jpg_tmp, jpg_dst, strerror(-ret));
            unlink(jpg_tmp);
        } else {
            have_jpg = true;
        }
    }
    if (want_jpg && !have_jpg) {
        unlink(jpg_tmp);
        ret = rec_sidecar_write(json_tmp, info, video_name, NULL);
        json_ok = ret == 0;
    }
    if (!json_ok) {
        cw_error("cannot write sidecar %s: %s (errno %d)", json_tmp, strerror(-ret), -ret);
        unlink(json_tmp);
    } else {
        ret = rec_rename_noreplace(json_tmp, json_dst);
        if (ret < 0) {
            cw_error("cannot move %s to %s: %s", json_tmp, json_dst, strerror(-ret));
            unlink(json_tmp);
        } else {
            have_json = true;
        }
    }
    ret = rec_rename_noreplace(video_src, mp4_dst);
    if (ret < 0) {
        cw_error("cannot move %s to %s: %s (left in staging)", video_src, mp4_dst, strerror(-ret));
        if (video_src != staging_mp4)
            unlink(fast_tmp); /* the recording stays, and is recovered */
        /* A snapshot and a sidecar must not stand for a video that is not
         * there: take them back out (the video is recovered at next start). */
        if (have_jpg)
            unlink(jpg_dst);
        if (have_json)
            unlink(json_dst);
        goto end;
    }
    int sync = rec_fsync_path(day_dir);
    if (sync < 0)
        cw_warn("cannot fsync %s: %s", day_dir, strerror(-sync));
    if (video_src != staging_mp4) {
        /* The recording the copy came from. A crash just before this costs
         * a duplicate (recovered at the next start), never the clip. */
        unlink(staging_mp4);
        rec_fsync_path(cfg->staging_dir);
    }

    cw_info("clip saved: %s (%.1f s, pre-roll %.1f s)", mp4_dst, info->duration_s,
            (double)(info->motion_start_ns - info->start_ns) / 1e9);
    if (cfg->on_clip_ready[0])
        run_hook(cfg->on_clip_ready, mp4_dst, have_jpg ? jpg_dst : NULL,
                 have_json ? json_dst : NULL);
    ret = 0;

end:
    /* On the early exits too: the hold is for this delivery only. */
    rec_reserve_release(staging_mp4);
    return ret;
}
