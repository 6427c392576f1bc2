#!/usr/bin/env bash
# camwatch-http's page in a real headless browser (Debian's chromium)
# against the running pipeline: the page loads, shows the camera online and
# today's clips as thumbnails, the live image updates, and the newest clip
# plays in the page (video.readyState reaches HAVE_ENOUGH_DATA, 4). The
# page's script keeps those figures in <body data-...>; the browser prints
# the DOM after 30 s of the page's virtual time. A screenshot is kept as page.png.
source "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null || fail "chromium is not installed (scripts/install-deps --test)"
prepare_media
port=$(test_port 19400)
hport=$(test_port 19450)
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam" HTTP_LISTEN="127.0.0.1:$hport"
start_camwatch
wait_for 20 "camwatch-http serving" grep -q "serving http://127.0.0.1:$hport/" "$WORK/camwatch.log"
wait_for 60 "a first clip" has_clips 1

# browser ARGS...: headless chromium, its own profile, 30 s of the page's
# virtual time (which runs ahead while no request is pending, so the live
# image may be seen to change only a few times).
browser() {
    timeout 90 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --user-data-dir="$WORK/chromium-profile" --window-size=1280,1000 \
        --virtual-time-budget=30000 "$@" 2>>"$WORK/chromium.log"
}
page="http://127.0.0.1:$hport/?play=newest"
check_page() {
    browser --dump-dom "$page" >"$WORK/dom.html" || fail "chromium failed: $(tail -5 "$WORK/chromium.log")"
    /usr/bin/python3 - "$WORK/dom.html" <<'PY'

import re, sys
dom = open(sys.argv[1]).read()
body = re.search(r"<body([^>]*)>", dom)
assert body, "no <body>"
attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
print("body:", attrs)
assert int(attrs["live-frames"]) >= 2, "the live image did not update"
assert int(attrs["video-ready"]) == 4, "the clip did not reach HAVE_ENOUGH_DATA"
state = re.search(r'<div id="state"[^>]*>([^<]*)<', dom).group(1)
print("state:", state)
assert state.startswith("camera online"), state
thumbs = re.findall(r'<figure><img src="(/clips/[^"]+\.jpg)"', dom)
assert thumbs, "no clip thumbnails"
print(len(thumbs), "thumbnails, e.g.", thumbs[0])
assert "camwatch-record" in dom and "running" in dom, "no stage table"
PY
}
# Virtual time can outrun the stream on a loaded machine: one more try.
check_page || check_page || fail "the page does not show what it should ($WORK/dom.html)"
browser --screenshot="$WORK/page.png" "$page" >/dev/null || fail "no screenshot: $(tail -5 "$WORK/chromium.log")"
[ "$(ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 "$WORK/page.png")" = png,1280 ] ||
    fail "the screenshot is not a 1280 px PNG"
log "screenshot: $WORK/page.png"
log ok
