#!/usr/bin/env bash
# `make run` as the README's first command gives it to a newcomer (the
# build and install-deps steps aside): scripts/run-demo with no RTSP_URL
# and no HTTP_LISTEN configured starts the built-in test camera, prints
# where it watches and where the web page is, a playable clip appears, the
# page answers at the printed address, and SIGTERM stops it all cleanly
# (camwatch exits 0, the test camera goes with it).
source "$(dirname "$0")/lib.sh"

camwatch_env
unset RTSP_URL HTTP_LISTEN HTTP_PASSWORD
export ENV_FILE=$WORK/none.env # a developer's own .env stays out of the test
: >"$ENV_FILE"
export MAX_CLIP_SECONDS=10
DEMO_PORT=$(test_port 19500)
DEMO_HTTP_PORT=$(test_port 19550)
export DEMO_PORT DEMO_HTTP_PORT
BUILD=$BUILD "$TOP/scripts/run-demo" >"$WORK/camwatch.log" 2>&1 &
demo=$!
CW_PIDS+=("$demo")

wait_for 10 "the demo's camera line" grep -q "watching the built-in test camera at rtsp://127.0.0.1:$DEMO_PORT/cam" "$WORK/camwatch.log"
page="http://127.0.0.1:$DEMO_HTTP_PORT/"
grep -q "the web page: $page " "$WORK/camwatch.log" || fail "run-demo did not print the page's address $page"
wait_for 30 "camwatch-http serving $page" grep -q "serving $page" "$WORK/camwatch.log"
wait_for 40 "a first clip" has_clips 1
clip=$(clips | head -n 1)
wait_for 5 "the clip's sidecar" test -s "${clip%.mp4}.json"
check_playable "$clip"
code=$(curl -s -o "$WORK/page.html" -w '%{http_code}' "$page")
[ "$code" = 200 ] && grep -qi '<html' "$WORK/page.html" || fail "$page answered $code, not the page"
log "the page answers at $page; first clip $(basename "$clip")"

fakecam=$(pgrep -P "$demo" -f camwatch-fakecam || true)
[ -n "$fakecam" ] || fail "no test camera under run-demo"
kill -TERM "$demo"
rc=0
wait "$demo" || rc=$?
[ $rc = 0 ] || fail "run-demo exited with $rc after SIGTERM: $(tail -n 5 "$WORK/camwatch.log")"
wait_for 5 "the test camera to stop" sh -c "! kill -0 $fakecam"
log ok
