#!/usr/bin/env bash
# `camwatch check`: every effective value with its source (environment,
# .env, default), credentials masked; exit 78 with one line naming the
# variable for a bad value, and for HTTP_LISTEN beyond loopback without
# HTTP_PASSWORD.
source "$(dirname "$0")/lib.sh"

# check_run ENV...: `camwatch check` with only ENV set; sets rc, out.txt, err.txt.
check_run() {
    rc=0
    env -i PATH="$PATH" "$@" "$BIN/camwatch" check >"$WORK/out.txt" 2>"$WORK/err.txt" </dev/null || rc=$?
}
# expect_line NAME VALUE SOURCE: out.txt has NAME's line with that value and source.
expect_line() {
    grep -qxF "$(printf '%-24s "%s"  (%s)' "$1" "$2" "$3")" "$WORK/out.txt" ||
        fail "want $1=\"$2\" ($3), got: $(grep "^$1 " "$WORK/out.txt" || echo nothing)"
}

printf 'POST_CAPTURE_SECONDS=7\nCAMERA_NAME=from-file\nRETRY_SECONDS=99\n' >.env
check_run RTSP_URL=rtsp://admin:Hidden-Pw1@127.0.0.1:1/cam VIDEO_DIR="$WORK/video" \
    RETRY_SECONDS=2.5 HTTP_PASSWORD=Http-Secret9 HTTP_LISTEN=0.0.0.0:8080
[ $rc = 0 ] || fail "check exited $rc: $(cat "$WORK/err.txt")"
cat "$WORK/out.txt"
expect_line RTSP_URL 'rtsp://admin:***@127.0.0.1:1/cam' environment
expect_line VIDEO_DIR "$WORK/video" environment
expect_line STAGING_DIR "$WORK/video/.staging" default
expect_line POST_CAPTURE_SECONDS 7 .env
expect_line CAMERA_NAME from-file .env
expect_line RETRY_SECONDS 2.5 environment # the environment wins over .env
expect_line PRE_CAPTURE_SECONDS 5 default
expect_line LOGLEVEL INFO default
expect_line HTTP_LISTEN 0.0.0.0:8080 environment
expect_line HTTP_PASSWORD '***' environment
tail -n 1 "$WORK/out.txt" | grep -qx 'configuration OK' || fail "no 'configuration OK' line"
# Every variable of --help has its line.
vars=$("$BIN/camwatch" --help | awk '/^  [A-Z_]+ /{print $1}' | grep -v CAMWATCH_BIN_DIR | sort)
got=$(awk '/^[A-Z_]+ /{print $1}' "$WORK/out.txt" | sort)
[ "$vars" = "$got" ] || fail "check does not print every variable: $(diff <(echo "$vars") <(echo "$got"))"
grep -qE 'Hidden-Pw1|Http-Secret9' "$WORK/out.txt" "$WORK/err.txt" && fail "a password was printed"
rm .env

# expect_78 VARIABLE ENV...
expect_78() {
    local var=$1
    shift
    check_run "$@"
    [ $rc = 78 ] || fail "check with $* exited $rc, want 78"
    [ "$(wc -l <"$WORK/err.txt")" = 1 ] || fail "check printed $(wc -l <"$WORK/err.txt") lines: $(cat "$WORK/err.txt")"
    grep -q "$var" "$WORK/err.txt" || fail "the message does not name $var: $(cat "$WORK/err.txt")"
    [ ! -s "$WORK/out.txt" ] || fail "values printed for a bad configuration"
    log "$(cat "$WORK/err.txt")"
}
url=RTSP_URL=rtsp://u:Hidden-Pw1@127.0.0.1:1/cam
dir=VIDEO_DIR=$WORK/video
expect_78 VIDEO_DIR "$url"
expect_78 DETECT_FPS "$url" "$dir" DETECT_FPS=fast
expect_78 HTTP_LISTEN "$url" "$dir" HTTP_LISTEN=8080
expect_78 HTTP_LISTEN "$url" "$dir" HTTP_LISTEN=127.0.0.1:99999
# Beyond loopback without a password: refused, by check and by camwatch itself.
expect_78 HTTP_PASSWORD "$url" "$dir" HTTP_LISTEN=0.0.0.0:8080
expect_78 HTTP_PASSWORD "$url" "$dir" HTTP_LISTEN=[::]:8080
grep -q 'Hidden-Pw1' "$WORK/err.txt" && fail "the password was printed"
rc=0
env -i PATH="$PATH" "$url" "$dir" HTTP_LISTEN=0.0.0.0:8080 CAMERA_NAME="chk-${CW_TEST_TAG:-x}" \
    "$BIN/camwatch" >"$WORK/run.txt" 2>&1 </dev/null || rc=$?
[ $rc = 78 ] || fail "camwatch with HTTP_LISTEN=0.0.0.0:8080 and no password exited $rc, want 78"
# Loopback needs no password.
check_run "$url" "$dir" HTTP_LISTEN=127.0.0.1:8080
[ $rc = 0 ] || fail "HTTP_LISTEN=127.0.0.1:8080 without a password refused: $(cat "$WORK/err.txt")"
check_run "$url" "$dir" HTTP_LISTEN=[::1]:8080
[ $rc = 0 ] || fail "HTTP_LISTEN=[::1]:8080 without a password refused: $(cat "$WORK/err.txt")"
log ok
