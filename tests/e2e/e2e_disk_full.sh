#!/usr/bin/env bash
# A full disk, for real: VIDEO_DIR is a 4 MiB tmpfs. Clips that no longer
# fit give a clear error naming the path; camwatch-record keeps running;
# nothing incomplete ever shows in VIDEO_DIR (check_video_dir, while the disk
# is full, after space is freed and after the stop); once space is freed,
# clips are saved again.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test mounts a tmpfs and needs root (CI runs as root)"
prepare_media
port=$(test_port 18890)
mkdir -p "$WORK/video"
mount -t tmpfs -o size=4m tmpfs "$WORK/video" || fail "cannot mount a tmpfs on $WORK/video"
CW_CLEANUP+=("umount -l '$WORK/video'")
export MAX_CLIP_SECONDS=10
# camwatch fills the disk itself here: retention's free-space floor would
# delete the older clips first and the disk would never fill.
export MIN_FREE_PERCENT=0
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch
# A function, so that each poll looks again (an argument would be evaluated
# once, before camwatch had started record).
record_runs() { [ -n "$(stage_pid record)" ]; }
wait_for 30 "record to start" record_runs
record1=$(stage_pid record)
wait_for 120 "record to report the full disk" grep -q 'No space left on device' "$WORK/camwatch.log"
grep 'No space left on device' "$WORK/camwatch.log" | head -n 3
grep -q "$WORK/video" <(grep 'No space left on device' "$WORK/camwatch.log") || fail "the error does not name the path"
[ "$(stage_pid record)" = "$record1" ] || fail "record did not survive the full disk"
has_clips 1 || fail "not one clip was saved before the disk filled"
check_video_dir
log "$(clip_count) complete clips fit before the disk filled; nothing incomplete beside them"

# Free the space: the next clip is saved again.
rm -f "$VIDEO_DIR"/20*/*
find "$VIDEO_DIR/.staging" -type f ! -name '*.part' -delete
wait_for 60 "a clip after space was freed" has_clips 1
check_video_dir
[ "$(stage_pid record)" = "$record1" ] || fail "record was restarted"
kill -TERM "$CAMWATCH_PID"
wait "$CAMWATCH_PID" || true
# Stopped: whatever record delivered on the way out is complete too.
check_video_dir
log "$(clip_count) complete clips after space was freed; ok"
