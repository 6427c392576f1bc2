#!/usr/bin/env bash
# Bad configuration: one line naming the variable, exit 78, for the
# supervisor and for every stage started by hand.
source "$(dirname "$0")/lib.sh"

# expect_78 VARIABLE PROGRAM ENV...: runs PROGRAM with only ENV set.
expect_78() {
    local var=$1 prog=$2
    shift 2
    local rc=0
    env -i PATH="$PATH" "$@" "$BIN/$prog" >"$WORK/out.txt" 2>"$WORK/err.txt" </dev/null || rc=$?
    [ $rc = 78 ] || fail "$prog with $* exited $rc, want 78 ($(cat "$WORK/err.txt"))"
    [ "$(wc -l <"$WORK/err.txt")" = 1 ] || fail "$prog printed $(wc -l <"$WORK/err.txt") lines: $(cat "$WORK/err.txt")"
    grep -q "$var" "$WORK/err.txt" || fail "$prog's message does not name $var: $(cat "$WORK/err.txt")"
    log "$prog: $(cat "$WORK/err.txt")"
}

url=RTSP_URL=rtsp://127.0.0.1:1/cam
dir=VIDEO_DIR=$WORK/video
for prog in camwatch camwatch-capture camwatch-detect camwatch-record; do
    expect_78 RTSP_URL "$prog" "$dir"
    expect_78 VIDEO_DIR "$prog" "$url"
    expect_78 RETRY_SECONDS "$prog" "$url" "$dir" RETRY_SECONDS=abc
    expect_78 PRE_CAPTURE_SECONDS "$prog" "$url" "$dir" PRE_CAPTURE_SECONDS=5s
    expect_78 POST_CAPTURE_SECONDS "$prog" "$url" "$dir" POST_CAPTURE_SECONDS=ten
    expect_78 LOGLEVEL "$prog" "$url" "$dir" LOGLEVEL=LOUD
done
# A .env file fills in what the environment lacks, and its mistakes are named.
printf 'VIDEO_DIR=%s\nRTSP_URL=rtsp://127.0.0.1:1/cam\nTIMEOUT_SECONDS=soon\n' "$WORK/video" >.env
expect_78 TIMEOUT_SECONDS camwatch
rm .env
# The password of a rejected URL is not in the message.
expect_78 RTSP_URL camwatch "$dir" RTSP_URL=ftp://admin:Hidden-Pw1@cam/x
grep -q 'Hidden-Pw1' "$WORK/err.txt" && fail "the password was printed"
log ok
