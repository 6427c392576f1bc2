#!/usr/bin/env bash
# Every stage under valgrind's memcheck through the life it leads between
# two restarts, started by hand as compose would: capture connects, streams
# and loses the camera (exit 75, what the supervisor retries); detect and
# record see motion and a clip, and stop on SIGTERM (exit 0), record having
# first recovered a torn clip a crash left in staging; camwatch-http
# serves its routes and stops. Memory errors, and memory definitely or
# indirectly lost, fail the test (libav's and GStreamer's process-lifetime
# allocations are "still reachable" and are not).
source "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || fail "valgrind missing: scripts/install-deps --test installs it"
prepare_media
port=$(test_port 19700)
hport=$(test_port 19750)
camwatch_env
export RTSP_URL="rtsp://127.0.0.1:$port/cam" HTTP_LISTEN="127.0.0.1:$hport"
# Valgrind runs the stages some twenty times slower: room for that.
export TIMEOUT_SECONDS=10 DETECT_FPS=2 MAX_CLIP_SECONDS=10

# memcheck STAGE: start camwatch-STAGE under valgrind; its pid in STAGE_pid.
memcheck() {
    valgrind --quiet --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no \
        --log-file="$WORK/$1.valgrind" "$BIN/camwatch-$1" >>"$WORK/$1.log" 2>&1 &
    CW_PIDS+=($!)
    eval "${1}_pid=$!"
}
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
# A clip a crash tore: fragmented MP4 cut off at 70 %, as a killed record
# leaves it. record recovers it when it starts.
mkdir -p "$VIDEO_DIR/.staging"
torn="$VIDEO_DIR/.staging/$CAMERA_NAME-20261201-120000.mp4.part"
ffmpeg -v error -t 4 -i "$MEDIA/camera.mp4" -an -c copy \
    -movflags frag_keyframe+empty_moov+default_base_moof -f mp4 "$WORK/torn.mp4" ||
    fail "ffmpeg could not make the torn clip"
truncate -s $(($(stat -c %s "$WORK/torn.mp4") * 7 / 10)) "$WORK/torn.mp4"
mv "$WORK/torn.mp4" "$torn"
memcheck record
memcheck detect
memcheck http
memcheck capture
# The waits add up to well under the runner's 420 s limit.
wait_for 90 "capture to connect under valgrind" grep -q 'connected to' "$WORK/capture.log"
wait_for 90 "detect's first motion" grep -q 'INFO: motion' "$WORK/detect.log"
wait_for 30 "camwatch-http serving" grep -q "serving http://127.0.0.1:$hport/" "$WORK/http.log"
for route in /healthz /api/status /metrics /latest.jpg /api/clips; do
    curl -s -o /dev/null -m 60 "http://127.0.0.1:$hport$route" || fail "camwatch-http did not answer $route"
done
wait_for 90 "record to recover the torn clip under valgrind" \
    grep -q "recovering .*$CAMERA_NAME-20261201-120000.mp4.part" "$WORK/record.log"
[ ! -e "$torn" ] || wait_for 60 "the torn clip to leave staging" test ! -e "$torn"
wait_for 90 "a clip under valgrind, beside the recovered one" has_clips 2

# The camera goes: capture gives up with 75 after TIMEOUT_SECONDS.
stop_fakecam
rc=0
wait "$capture_pid" || rc=$?
[ $rc = 75 ] || fail "capture exited with $rc after losing the camera, want 75 (99: valgrind found errors): $(cat "$WORK/capture.valgrind")"
for stage in http detect record; do
    pid_var=${stage}_pid
    kill -TERM "${!pid_var}"
    rc=0
    wait "${!pid_var}" || rc=$?
    [ $rc = 0 ] || fail "$stage exited with $rc on SIGTERM (99: valgrind found errors): $(head -c 3000 "$WORK/$stage.valgrind")"
done
for stage in capture detect record http; do
    # --quiet: the log holds only what was found; empty is clean.
    [ ! -s "$WORK/$stage.valgrind" ] || fail "valgrind on $stage: $(head -c 3000 "$WORK/$stage.valgrind")"
    log "$stage: no memory error, nothing definitely or indirectly lost"
done
check_video_dir "$WORK/record.log"
log ok
