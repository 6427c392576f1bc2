#!/usr/bin/env bash
# A full disk, for real: VIDEO_DIR is a 4 MiB tmpfs. Clips that no longer
# fit give a clear error naming the path; camwatch-record keeps running;
# nothing incomplete ever shows in VIDEO_DIR (check_video_dir, while the disk
# is full, after space is freed and after the stop); once space is freed,
# clips are saved again.
# Then the same with the free-space floor on (MIN_FREE_PERCENT at its
# default) while another program fills the disk and keeps it full: the clip
# being written closes cleanly, retention deletes camwatch's older clips
# (and nothing else: a user's own files in VIDEO_DIR survive), the full disk
# is one ERROR line however many clips fail, and one line says recording
# resumed once the other program's files are gone.
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

log "the floor on, another program fills the disk"
mkdir -p "$WORK/disk"
mount -t tmpfs -o size=12m tmpfs "$WORK/disk" || fail "cannot mount a tmpfs on $WORK/disk"
CW_CLEANUP+=("umount -l '$WORK/disk'")
export VIDEO_DIR=$WORK/disk/video
unset MIN_FREE_PERCENT # the default floor, 10 %
mv "$WORK/camwatch.log" "$WORK/camwatch-floor-off.log"
day=$VIDEO_DIR/$(date +%F)
mkdir -p "$day"
# A user's own files: one beside the date folders, one inside a date folder
# that looks like a clip but has no sidecar of camwatch's.
echo "notes of my own" >"$VIDEO_DIR/notes.txt"
head -c 300000 /dev/urandom >"$day/holiday-20200101-120000.mp4"
user_sums=$(md5sum "$VIDEO_DIR/notes.txt" "$day/holiday-20200101-120000.mp4")
start_camwatch
wait_for 30 "record to start" record_runs
record2=$(stage_pid record)
# Two clips (the user's file counts as a third): retention keeps the newest.
wait_for 60 "two clips" has_clips 3
wait_for 20 "the next clip to be recording" compgen -G "$VIDEO_DIR/.staging/*.part"
sleep 4 # a few fragments of it are written
# The other program: takes every byte free on the disk, again every second,
# so that what retention frees is soon gone again. Its files are outside
# VIDEO_DIR.
mkdir -p "$WORK/disk/filler"
(
    i=0
    while [ ! -e "$WORK/filler.stop" ]; do
        dd if=/dev/zero of="$WORK/disk/filler/$i" bs=16k 2>/dev/null || true
        i=$((i + 1))
        sleep 1
    done
) &
filler=$!
CW_PIDS+=("$filler")
wait_for 30 "record to report the full disk" grep -q 'No space left on device' "$WORK/camwatch.log"
# Long enough for a clip or two more to be tried (a write error holds new
# clips off for 10 s).
sleep 25
touch "$WORK/filler.stop"
wait "$filler" || true
# Snapshots aside: one that cannot be written is said with its clip's
# delivery (snapshot.c), once per clip delivered, not per attempt.
errors=$(grep 'camwatch-record.* ERROR: .*No space left on device' "$WORK/camwatch.log" |
    grep -vc 'cannot write snapshot' || true)
grep 'camwatch-record.* ERROR: ' "$WORK/camwatch.log" || true
[ "$errors" = 1 ] || fail "$errors ERROR lines about the full disk in 25 s, want 1"
grep -q 'retention: deleted' "$WORK/camwatch.log" || fail "retention deleted no clip while the disk was full"
grep 'retention: deleted' "$WORK/camwatch.log" | head -n 2
# The clip the disk filled under was closed at its last complete fragment
# and delivered (check_video_dir below: it plays, and lasts what its
# sidecar says); retention keeps the newest clip.
cut=$(python3 -c 'import glob, json, sys
print(next((p for p in sorted(glob.glob(sys.argv[1] + "/20*/*.json"))
            if json.load(open(p)).get("cut_short") == "disk_full"), ""))' "$VIDEO_DIR")
[ -n "$cut" ] || fail "no clip with cut_short disk_full was delivered"
log "the clip the disk filled under: ${cut%.json}.mp4, $(sidecar_field "${cut%.json}.mp4" duration_seconds) s"
[ "$(stage_pid record)" = "$record2" ] || fail "record did not survive the full disk"
# Space returns: recording resumes, and says so once.
rm -rf "$WORK/disk/filler"
resumed() { grep -q 'recording resumed' "$WORK/camwatch.log"; }
wait_for 60 "record to say recording resumed" resumed
grep 'recording resumed' "$WORK/camwatch.log"
[ "$(grep -c 'recording resumed' "$WORK/camwatch.log")" = 1 ] || fail "more than one 'recording resumed'"
kill -TERM "$CAMWATCH_PID"
wait "$CAMWATCH_PID" || true
[ "$(md5sum "$VIDEO_DIR/notes.txt" "$day/holiday-20200101-120000.mp4")" = "$user_sums" ] ||
    fail "the user's own files in VIDEO_DIR were changed or deleted"
# Stopped: every clip left is complete (the user's files set aside, as
# check_video_dir knows only camwatch's).
mv "$VIDEO_DIR/notes.txt" "$day/holiday-20200101-120000.mp4" "$WORK/"
check_video_dir
log "floor on: one ERROR for the full disk, retention ran, the user's files survived, recording resumed; ok"
