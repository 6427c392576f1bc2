#!/usr/bin/env bash
# The compose topology without compose: the three stages run as separate
# processes with no supervisor, started in reverse order (record and detect
# wait for a capture that is not there yet), the way containers come up in
# any order. A clip is recorded; a capture killed with SIGKILL and started
# again (compose's restart) continues the same rings, and record and detect
# go on without noticing more than a gap.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 18850)
camwatch_env
export MAX_CLIP_SECONDS=10 RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_stage() {
    "$BIN/camwatch-$1" >>"$WORK/$1.log" 2>&1 &
    CW_PIDS+=($!)
    eval "${1}_pid=$!"
}
start_stage record
start_stage detect
sleep 1
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
start_stage capture
wait_for 60 "a clip from the hand-started stages" has_clips 1
check_playable "$(clips | head -n 1)"
log "first clip: $(clips | head -n 1)"

# The first capture's "connected to" is in the log already: wait for one more.
connections() { grep -c 'connected to' "$WORK/capture.log" || true; }
connected_before=$(connections)
[ "$connected_before" -ge 1 ] || fail "the first capture never logged its connection"
killed_at=$(date +%s.%N)
kill -KILL "$capture_pid"
wait "$capture_pid" 2>/dev/null || true
sleep 2
start_stage capture
connected_again() { [ "$(connections)" -gt "$connected_before" ]; }
wait_for 20 "the new capture to connect" connected_again
grep 'connected to' "$WORK/capture.log" | tail -n 1 | grep -qF "camwatch-capture[$capture_pid]" ||
    fail "the last connection is not the new capture's (pid $capture_pid)"
# A clip of motion seen after the kill: detect analysed the new capture's
# frames and record recorded them. (Counting clips is not enough: the clip
# the kill interrupted is delivered after the restart too.)
motion_after_kill() {
    local c
    for c in $(clips); do
        python3 - "${c%.mp4}.json" "$killed_at" <<'PY' && return 0
import datetime, json, sys
start = json.load(open(sys.argv[1]))["motion_start"]
sys.exit(0 if datetime.datetime.fromisoformat(start).timestamp() > float(sys.argv[2]) else 1)
PY
    done
    return 1
}
wait_for 60 "a clip of motion after capture was killed and restarted" motion_after_kill
for c in $(clips); do check_playable "$c"; done
kill -0 "$record_pid" && kill -0 "$detect_pid" || fail "record or detect died with capture"
for s in detect record; do
    ! grep -E 'CRITICAL|ERROR' "$WORK/$s.log" || fail "camwatch-$s logged errors (above)"
done
log "$(clip_count) clips from stages started by hand; ok"
