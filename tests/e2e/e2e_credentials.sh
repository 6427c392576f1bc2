#!/usr/bin/env bash
# A password in RTSP_URL never appears in any log line (even at DEBUG, even
# when the camera rejects it) nor in any process's command line.
source "$(dirname "$0")/lib.sh"

port=$(test_port 18800)
secret='Zq7-secret-pw'
FAKECAM_PASSWORD=$secret start_fakecam "$port" --pattern --user admin
export LOGLEVEL=DEBUG
export RTSP_URL="rtsp://admin:$secret@127.0.0.1:$port/cam"
start_camwatch
wait_for 30 "capture to connect" grep -q 'connected to' "$WORK/camwatch.log"
for pid in $(pgrep -f 'camwatch(-capture|-detect|-record)?$'); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$secret"; then
        fail "process $pid shows the password in its command line"
    fi
done
sleep 3
kill -TERM "$CAMWATCH_PID"
wait "$CAMWATCH_PID" || true

# The wrong password: the camera refuses, capture says so, retries, and the
# password it tried is not printed either.
wrong='Wrong-Pw-8812'
export RTSP_URL="rtsp://admin:$wrong@127.0.0.1:$port/cam"
start_camwatch
wait_for 30 "capture to report the refusal" grep -qi 'unauthorized\|credentials' "$WORK/camwatch.log"
sleep 3
kill -TERM "$CAMWATCH_PID"
wait "$CAMWATCH_PID" || true

grep -q "admin:\*\*\*@127.0.0.1:$port" "$WORK/camwatch.log" || fail "the masked URL was never logged"
lines=$(wc -l <"$WORK/camwatch.log")
if grep -n -e "$secret" -e "$wrong" "$WORK/camwatch.log"; then
    fail "a password appeared in the log (above)"
fi
log "$lines log lines at DEBUG, no password among them; ok"
