#!/usr/bin/env bash
# End to end: the test camera serves real footage (a still background, then
# people walking) as H.264 over RTSP; camwatch records clips of the motion.
# Checks: the clip is complete when it appears (only ever renamed into
# VIDEO_DIR), decodes without error, is H.264 copied from the camera (packet
# MD5s match the source), starts before the first motion (its first picture
# is a background frame), and has a snapshot and a sidecar. Then SIGTERM in
# the middle of the next clip delivers that clip too and removes the rings.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 18700)
camwatch_env
mkdir -p "$VIDEO_DIR/.staging"
# Today's and tomorrow's folders exist before camwatch runs, so inotify
# watches them from the start (a test run may cross midnight).
mkdir -p "$VIDEO_DIR/$(date +%F)" "$VIDEO_DIR/$(date -d tomorrow +%F)"
inotifywait -m -r --format '%w%f|%e' "$VIDEO_DIR" >"$WORK/inotify.log" 2>"$WORK/inotify.err" &
CW_PIDS+=($!)
wait_for 10 "inotify watches" grep -q 'Watches established' "$WORK/inotify.err"

start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch
log "camwatch started (pid $CAMWATCH_PID); motion starts ${PLATE_SECONDS}s into the stream"

wait_for 60 "a first clip in $VIDEO_DIR" has_clips 1
clip=$(clips | head -n 1)
log "first clip: $clip"
# The sidecar and the snapshot are renamed in before the video.
[ -s "${clip%.mp4}.json" ] || fail "no sidecar beside $clip"
[ -s "${clip%.mp4}.jpg" ] || fail "no snapshot beside $clip"
check_playable "$clip"
ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip" >"$WORK/duration.txt"
log "duration $(cat "$WORK/duration.txt") s, pre-roll $(sidecar_field "$clip" pre_capture_seconds) s"

# Copied, not re-encoded: the clip's packets are the camera's packets.
ffmpeg -loglevel error -i "$clip" -map 0:v -c copy -f framemd5 - | grep -v '^#' |
    awk -F', *' '{print $6}' >"$WORK/clip-packets.txt"
total=$(wc -l <"$WORK/clip-packets.txt")
same=$(grep -cxFf "$MEDIA/packet-md5.txt" "$WORK/clip-packets.txt" || true)
log "$same of $total clip packets are byte-identical to the source's"
[ "$total" -ge 30 ] || fail "clip has only $total packets"
# Keyframes may carry the parameter sets the RTSP payloader repeats; every
# other packet must be identical.
keys=$(ffprobe -v error -select_streams v:0 -show_entries packet=flags -of csv=p=0 "$clip" | grep -c K || true)
[ $((total - same)) -le "$keys" ] || fail "$((total - same)) packets differ from the source (only $keys keyframes may)"

# Pre-roll: the clip's first picture is one of the motion-free frames.
first=$(ffmpeg -loglevel error -i "$clip" -frames:v 1 -f framemd5 - | grep -v '^#' | awk -F', *' '{print $6}')
grep -qxF "$first" "$MEDIA/plate-md5.txt" || fail "the clip's first picture is not from before the motion"
pre=$(sidecar_field "$clip" pre_capture_seconds)
python3 -c "import sys; sys.exit(0 if float('$pre') >= 1.5 else 1)" || fail "pre-roll $pre s < 1.5 s"
[ "$(sidecar_field "$clip" camera)" = "$CAMERA_NAME" ] || fail "sidecar names another camera"

# Stop in the middle of the next clip: it is closed and delivered too.
wait_for 40 "the next clip to be recording" compgen -G "$VIDEO_DIR/.staging/*.part"
sleep 2
n_before=$(clip_count)
stage_pids="$(stage_pid capture) $(stage_pid detect) $(stage_pid record)"
[ "$(echo $stage_pids | wc -w)" = 3 ] || fail "not all three stages run: $stage_pids"
kill -TERM "$CAMWATCH_PID"
rc=0
wait "$CAMWATCH_PID" || rc=$?
[ $rc = 0 ] || fail "camwatch exited with $rc after SIGTERM, want 0"
[ "$(clip_count)" -gt "$n_before" ] || fail "the clip in progress at SIGTERM was not delivered"
last=$(clips | tail -n 1)
check_playable "$last"
[ "$(sidecar_field "$last" cut_short)" = shutdown ] || fail "last clip's cut_short is not 'shutdown'"
! compgen -G "/dev/shm/camwatch.$CAMERA_NAME.*" >/dev/null || fail "rings left in /dev/shm"
for pid in $stage_pids; do
    ! kill -0 "$pid" 2>/dev/null || fail "stage $pid still running after stop"
done

# Nothing but complete files ever appeared in VIDEO_DIR: every file outside
# the staging folder arrived by rename and was never written in place.
sleep 0.5
if grep -v '/.staging/' "$WORK/inotify.log" | grep -E '\|(CREATE|MODIFY|CLOSE_WRITE)' | grep -v ',ISDIR'; then
    fail "files were written in place in VIDEO_DIR (see above)"
fi
moved=$(grep -v '/.staging/' "$WORK/inotify.log" | grep -c '|MOVED_TO' || true)
[ "$moved" -ge 3 ] || fail "only $moved files moved into VIDEO_DIR"
log "all $(clip_count) clips arrived by rename ($moved files moved in); ok"
