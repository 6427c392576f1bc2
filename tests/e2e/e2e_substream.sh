#!/usr/bin/env bash
# DETECT_URL end to end. The test camera serves the footage twice: the main
# mount as it is (768x576) and a sub-stream mount scaled to half (384x288).
# Checks: `camwatch check` masks DETECT_URL's password (and no log shows
# it); two capture workers run, the main one copying without decoding and
# detection seeing the sub-stream's pictures; the clip is the main stream's
# (ffprobe), its sidecar's boxes are in main-stream pixels (inside the main
# frame, not all inside the sub frame), its snapshot is the main stream's
# picture (main-sized) and the sidecar says so (snapshot_source "main");
# each worker killed alone (SIGKILL) is restarted alone while the other
# keeps its pid; each mount dropped alone and restored, the right worker
# retrying with the right words, the other worker untouched.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 19560)
SUB_W=384 SUB_H=288
MAIN_W=768 MAIN_H=576
# The sub mount has no authentication: the password is only there to be
# masked, and differs from anything in RTSP_URL so that its own masking is
# what is tested.
SUB_PASSWORD="sub-secret-$$"
export RETRY_SECONDS=1 MAX_CLIP_SECONDS=10
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop --sub-path /sub \
    --sub-width $SUB_W --sub-height $SUB_H
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
export DETECT_URL="rtsp://viewer:$SUB_PASSWORD@127.0.0.1:$port/sub"
camwatch_env

# 1. The configuration as `camwatch check` shows it: DETECT_URL masked.
"$BIN/camwatch" check >"$WORK/check.log" 2>&1 || fail "camwatch check failed"
grep -q "^DETECT_URL .*rtsp://viewer:\*\*\*@127.0.0.1:$port/sub" "$WORK/check.log" ||
    fail "camwatch check does not show DETECT_URL masked: $(grep DETECT_URL "$WORK/check.log")"
! grep -q "$SUB_PASSWORD" "$WORK/check.log" || fail "camwatch check shows DETECT_URL's password"

start_camwatch
sub_pid() { pgrep -P "$CAMWATCH_PID" -f "(^|/)camwatch-capture --role=sub\$" || true; }
both_running() { [ -n "$(stage_pid capture)" ] && [ -n "$(sub_pid)" ]; }
wait_for 20 "both capture workers" both_running
grep_log() { grep -q -- "$1" "$WORK/camwatch.log"; }
wait_for 20 "the main worker to connect" grep_log "(main stream: copied for recording, not decoded)"
wait_for 20 "the sub worker to connect" grep_log "x$SUB_H .*(sub-stream: decoded for detection)"

# 2. A clip: the main stream's, boxes in its pixels.
wait_for 45 "a clip" has_clips 1
clip=$(clips | head -n 1)
check_playable "$clip"
size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$clip")
[ "$size" = "$MAIN_W,$MAIN_H" ] || fail "$clip is $size, want the main stream's $MAIN_W,$MAIN_H"
grep -E "camwatch-detect\[[0-9]+\] INFO: first frame: " "$WORK/camwatch.log" | grep -qv "${SUB_W}x$SUB_H" &&
    fail "detection saw pictures other than the sub-stream's: $(grep 'first frame' "$WORK/camwatch.log")"
python3 - "${clip%.mp4}.json" $MAIN_W $MAIN_H $SUB_W $SUB_H <<'PY' || fail "sidecar of $clip: see above"
import json, sys
s = json.load(open(sys.argv[1]))
mw, mh, sw, sh = map(int, sys.argv[2:])
want = {"width": mw, "height": mh, "detect_width": sw, "detect_height": sh,
        "snapshot_source": "main", "boxes_frame": "main"}
bad = [f"{k}={s.get(k)!r}, want {v!r}" for k, v in want.items() if s.get(k) != v]
boxes = s["boxes"]
if not boxes:
    bad.append("no boxes")
for x, y, w, h in boxes:
    if w <= 0 or h <= 0 or x + w > mw or y + h > mh:
        bad.append(f"box {[x, y, w, h]} is not inside the {mw}x{mh} main frame")
# Scaled, not left in sub-stream pixels: some box reaches beyond the sub frame.
if boxes and all(x + w <= sw and y + h <= sh for x, y, w, h in boxes):
    bad.append(f"every box {boxes} lies inside {sw}x{sh}: not scaled to the main stream")
print("\n".join(bad) or f"boxes {boxes} in {mw}x{mh}")
sys.exit(1 if bad else 0)
PY
# The snapshot is the main stream's keyframe of the peak (the footage has
# one every second), decoded once, not the sub-stream's smaller picture.
jpg=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "${clip%.mp4}.jpg")
[ "$jpg" = "$MAIN_W,$MAIN_H" ] || fail "snapshot is $jpg, want the main stream's picture $MAIN_W,$MAIN_H"
log "clip $clip: $size, snapshot $jpg from the main stream"

# 3. Each worker killed alone: only it is restarted.
# kill_alone WHICH: SIGKILL that worker, wait for its successor, check the other kept its pid.
main_pid() { stage_pid capture; }
kill_alone() {
    local which=$1 other=$2 victim keep now
    victim=$(${which}_pid) keep=$(${other}_pid)
    [ -n "$victim" ] && [ -n "$keep" ] || fail "capture workers not both running"
    kill -KILL "$victim"
    new_pid() { now=$(${which}_pid) && [ -n "$now" ] && [ "$now" != "$victim" ]; }
    wait_for 10 "the $which worker to be restarted after SIGKILL" new_pid
    grep_log "pid=$victim killed by signal 9" || fail "no death line for $which worker $victim"
    [ "$(${other}_pid)" = "$keep" ] || fail "the $other worker was restarted too ($keep -> $(${other}_pid))"
    log "$which worker $victim killed: restarted as $(${which}_pid); $other worker kept $keep"
}
kill_alone sub main
kill_alone main sub

# 4. Each mount dropped alone and restored.
# drop_alone WHICH SIGNAL COST BACK: drop the mount, see the worker retry
# saying what is lost, restore it, see it back; the other worker untouched.
drop_alone() {
    local which=$1 other=$2 sig=$3 cost=$4 back=$5 keep before
    keep=$(${other}_pid)
    before=$(grep -c -- "$back" "$WORK/camwatch.log" || true)
    kill -"$sig" "$FAKECAM_PID"
    wait_for 10 "the $which worker to report its stream lost" grep_log "$cost"
    sleep 2 # a few failed attempts (404) while the mount is gone
    kill -"$sig" "$FAKECAM_PID"
    back_again() { [ "$(grep -c -- "$back" "$WORK/camwatch.log")" -gt "$before" ]; }
    wait_for 15 "the $which stream to be back" back_again
    [ "$(${other}_pid)" = "$keep" ] || fail "the $other worker was restarted while the $which mount was down"
    log "$which mount dropped and restored: $(grep -- "$back" "$WORK/camwatch.log" | tail -n 1 | cut -d' ' -f4-)"
}
drop_alone sub main USR2 "no detection until the sub-stream (DETECT_URL) is back" "sub-stream is back: "
drop_alone main sub USR1 "no recording until the main stream (RTSP_URL) is back" "camera is back: "

! grep -q "$SUB_PASSWORD" "$WORK"/*.log || fail "a log shows DETECT_URL's password"
log "ok"
