#!/usr/bin/env bash
# A password in RTSP_URL never appears in any log line (even at DEBUG, even
# when the camera rejects it) nor in any camwatch process's command line:
# credentials travel by environment, never by argv.
source "$(dirname "$0")/lib.sh"

port=$(test_port 18800)
secret='Zq7-secret-pw'
FAKECAM_PASSWORD=$secret start_fakecam "$port" --pattern --user admin
export LOGLEVEL=DEBUG
export RTSP_URL="rtsp://admin:$secret@127.0.0.1:$port/cam"
start_camwatch
wait_for 30 "capture to connect" grep -q 'connected to' "$WORK/camwatch.log"

# The supervisor and every process below it, found by parentage, never by
# matching a command line (which is what could carry the URL).
descendants() {
    local pid
    for pid in $(pgrep -P "$1" || true); do
        echo "$pid"
        descendants "$pid"
    done
}
# Which program a process runs, from /proc/PID/exe (argv[0] is the caller's
# choice and proves nothing).
program_of() { basename "$(readlink "/proc/$1/exe" 2>/dev/null)" 2>/dev/null; }
all_four_run() {
    local progs
    progs=$(for pid in $CAMWATCH_PID $(descendants "$CAMWATCH_PID"); do program_of "$pid"; done |
        sort | tr '\n' ' ')
    [ "$progs" = "camwatch camwatch-capture camwatch-detect camwatch-record " ]
}
wait_for 20 "camwatch and its three stages to run" all_four_run
seen= capture=
for pid in $CAMWATCH_PID $(descendants "$CAMWATCH_PID"); do
    prog=$(program_of "$pid")
    # Read once: what is searched is what is shown.
    cmdline=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) ||
        fail "process $pid ($prog) vanished before it was examined"
    if grep -qF "$secret" <<<"$cmdline"; then
        fail "process $pid ($prog) shows the password in its command line: $(tr '\n' ' ' <<<"$cmdline")"
    fi
    log "pid $pid $prog: command line '$(tr '\n' ' ' <<<"$cmdline")' holds no password"
    seen+="$prog "
    [ "$prog" != camwatch-capture ] || capture=$pid
done
seen=$(tr ' ' '\n' <<<"$seen" | sed '/^$/d' | sort | tr '\n' ' ')
[ "$seen" = "camwatch camwatch-capture camwatch-detect camwatch-record " ] ||
    fail "examined the processes '$seen', want camwatch and its three stages, each once"
# The environment is the intended channel, so it is no place to look for a
# leak; that the search finds the password there shows it would find it in a
# command line too.
environ=$(tr '\0' '\n' <"/proc/$capture/environ")
grep -qF "$secret" <<<"$environ" ||
    fail "the password is not in camwatch-capture's environment: the search above proves nothing"
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
log "4 processes and $lines log lines at DEBUG, no password among them; ok"
