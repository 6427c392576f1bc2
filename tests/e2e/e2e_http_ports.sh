#!/usr/bin/env bash
# camwatch-http and its port: 0.0.0.0 without HTTP_PASSWORD is refused with
# 78 (the stage by hand, and the supervisor); a port already in use is
# logged clearly, retried, and never stops or delays recording; once it is
# free the stage serves without a restart. Two cameras on one host: each
# supervisor has its own HTTP_LISTEN and serves its own camera.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 19200)
hport=$(test_port 19250)
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
camwatch_env

# --- refused configurations -------------------------------------------------
for prog in camwatch-http camwatch; do
    rc=0
    HTTP_LISTEN=0.0.0.0:$hport "$BIN/$prog" >"$WORK/refused.txt" 2>&1 </dev/null || rc=$?
    [ $rc = 78 ] || fail "$prog with HTTP_LISTEN=0.0.0.0:$hport and no password exited $rc, want 78"
    [ "$(wc -l <"$WORK/refused.txt")" = 1 ] && grep -q HTTP_PASSWORD "$WORK/refused.txt" ||
        fail "$prog's refusal does not name HTTP_PASSWORD: $(cat "$WORK/refused.txt")"
    log "$prog: $(cat "$WORK/refused.txt")"
done
rc=0
"$BIN/camwatch-http" >"$WORK/refused.txt" 2>&1 </dev/null || rc=$?
[ $rc = 78 ] && grep -q HTTP_LISTEN "$WORK/refused.txt" || fail "camwatch-http without HTTP_LISTEN exited $rc: $(cat "$WORK/refused.txt")"

# --- a port in use -----------------------------------------------------------
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("holding", flush=True); time.sleep(600)' "$hport" >"$WORK/holder.log" 2>&1 &
holder=$!
CW_PIDS+=("$holder")
wait_for 10 "another program holding port $hport" grep -q holding "$WORK/holder.log"
export HTTP_LISTEN=127.0.0.1:$hport
start_camwatch
wait_for 20 "the port-in-use warning" grep -q "cannot listen on HTTP_LISTEN=127.0.0.1:$hport: Address already in use (another program holds the port); retrying" "$WORK/camwatch.log"
grep "cannot listen" "$WORK/camwatch.log" | head -n 1
http_pid=$(stage_pid http)
[ -n "$http_pid" ] || fail "camwatch-http is not running while the port is taken"
wait_for 60 "a clip while the port is taken" has_clips 1
[ "$(stage_pid http)" = "$http_pid" ] || fail "camwatch-http restarted while the port was taken"
[ "$(grep -c 'cannot listen' "$WORK/camwatch.log")" = 1 ] || fail "the warning was repeated: $(grep -c 'cannot listen' "$WORK/camwatch.log") times within a minute"
grep -q "started camwatch-record" "$WORK/camwatch.log" && ! grep -q "camwatch-record pid=.* exited\|killed" "$WORK/camwatch.log" ||
    fail "recording was disturbed"
kill "$holder"
wait_for 10 "camwatch-http serving once the port is free" grep -q "serving http://127.0.0.1:$hport/" "$WORK/camwatch.log"
[ "$(stage_pid http)" = "$http_pid" ] || fail "camwatch-http was restarted to get its port"
[ "$(curl -s "http://127.0.0.1:$hport/api/status" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["camera"])')" = "$CAMERA_NAME" ] ||
    fail "/api/status does not name camera $CAMERA_NAME"
log "port in use: told once, retried, recording went on, served once free (same pid $http_pid)"

# --- a second camera on the same host: its own supervisor and HTTP_LISTEN ---
hport2=$(test_port 19280)
second_log=$WORK/camwatch-2.log
(
    export CAMERA_NAME=$CAMERA_NAME-2 VIDEO_DIR=$WORK/video-2 HTTP_LISTEN=127.0.0.1:$hport2
    rm -f /dev/shm/camwatch."$CAMERA_NAME".*
    exec "$BIN/camwatch" >>"$second_log" 2>&1
) &
second=$!
CW_PIDS+=("$second")
CW_CLEANUP+=("rm -f /dev/shm/camwatch.$CAMERA_NAME-2.*")
wait_for 20 "the second camera's http" grep -q "serving http://127.0.0.1:$hport2/" "$second_log"
one=$(curl -s "http://127.0.0.1:$hport/api/status")
two=$(curl -s "http://127.0.0.1:$hport2/api/status")
/usr/bin/python3 - "$one" "$two" "$CAMERA_NAME" "$CAMWATCH_PID" "$second" <<'PY' || fail "the two cameras' status pages are mixed up"
import json, sys
one, two = json.loads(sys.argv[1]), json.loads(sys.argv[2])
cam, pid1, pid2 = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
assert one["camera"] == cam and one["supervisor"]["pid"] == pid1, one["supervisor"]
assert two["camera"] == cam + "-2" and two["supervisor"]["pid"] == pid2, two["supervisor"]
# Stages that do not run (the sub-stream's capture without DETECT_URL,
# camwatch-mqtt without MQTT_URL) have no pid.
pids1 = {s["pid"] for s in one["stages"] if s["pid"]}
pids2 = {s["pid"] for s in two["stages"] if s["pid"]}
assert not (pids1 & pids2), (pids1, pids2)
print("camera", one["camera"], "on one port,", two["camera"], "on the other")
PY
kill -TERM "$second"
wait "$second" || fail "the second camwatch stopped with $?"
log ok
