#!/usr/bin/env bash
# An HTTP MJPEG camera, as phone camera apps serve one (multipart/x-mixed-
# replace over HTTP): ffmpeg serves the test footage scaled to 1280x720 as
# MJPEG at 10 fps. MJPEG pictures stand alone, so capture decodes only the
# ones detection analyses (DETECT_FPS=5: one packet in two), and at reduced
# size: 1/4 (lowres 2), 320x180, the smallest still DETECT_WIDTH=320 wide.
#  - capture's log says lowres is in use, and its status (camwatch status)
#    shows about one packet in two decoded;
#  - a clip of the motion appears, MJPEG at 1280x720 as the camera sent it,
#    and decodes without error;
#  - its sidecar says detection saw 320x180, and its boxes are in the
#    clip's 1280x720 pixels (inside it, and not all inside 320x180).
#  - its snapshot is the camera's full-size picture of that moment.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 19800)
export RTSP_URL="http://127.0.0.1:$port/video"
export DETECT_FPS=5 DETECT_WIDTH=320

# ffmpeg's HTTP server takes one client and ends with it: a loop starts it
# again for the next connect (capture's restart is the reconnect).
cat >"$WORK/mjpeg-camera.sh" <<EOF
#!/usr/bin/env bash
trap 'kill \$child 2>/dev/null; exit 0' TERM INT
while :; do
    ffmpeg -nostdin -loglevel error -re -stream_loop -1 -i "$MEDIA/camera.mp4" \
        -vf scale=1280:720 -c:v mjpeg -q:v 5 -f mpjpeg -listen 1 "$RTSP_URL" &
    child=\$!
    wait \$child
    sleep 0.2
done
EOF
chmod +x "$WORK/mjpeg-camera.sh"
"$WORK/mjpeg-camera.sh" >>"$WORK/mjpeg-camera.log" 2>&1 &
CW_PIDS+=($!)
wait_for 10 "the MJPEG camera to listen" bash -c "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
# That probe was the server's one client: let it start again.
sleep 1

start_camwatch
wait_for 30 "capture to connect" grep -q 'connected to' "$WORK/camwatch.log"
grep 'camwatch-capture' "$WORK/camwatch.log" | grep -E 'connected to|lowres' | sed 's/^/    /'
grep -q 'connected to .*: mjpeg 1280x720' "$WORK/camwatch.log" ||
    fail "capture did not read 1280x720 MJPEG"
grep -q 'mjpeg 1280x720: decoding only the pictures detection analyses, at 1/4 size (lowres 2: 320x180, DETECT_WIDTH=320)' \
    "$WORK/camwatch.log" || fail "capture's log does not say it decodes at 1/4 size"

wait_for 90 "a clip of the motion" has_clips 1
clip=$(clips | head -n 1)

# Only the analysed pictures are decoded: at 10 fps and DETECT_FPS=5, about
# one packet in two (the counters capture keeps in the ring header).
fps_ok() {
    "$BIN/camwatch" status --json >"$WORK/status.json" || return 1
    python3 - "$WORK/status.json" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
s, f = st["stream"], st["fps"]
print("    status: %s packets, %s pictures decoded; fps input %s, analysed %s" % (
    s["packets"], s["pictures_decoded"], f["input"], f["analysed"]))
share = s["pictures_decoded"] / s["packets"] if s["packets"] else 1
ok = s["packets"] >= 50 and 0.35 <= share <= 0.65 and f["analysed"] and f["analysed"] >= 3.5
sys.exit(0 if ok else 1)
PY
}
tries=0
until fps_ok; do
    tries=$((tries + 1))
    [ $tries -lt 5 ] || fail "capture decodes more than the pictures detection analyses"
    sleep 1
done
kill -TERM "$CAMWATCH_PID"
rc=0
wait "$CAMWATCH_PID" || rc=$?
[ $rc = 0 ] || fail "camwatch exited with $rc after SIGTERM, want 0"

# The clip is the camera's MJPEG, copied: full size, and it decodes.
probe=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$clip")
[ "$probe" = "mjpeg,1280,720" ] || fail "$clip is '$probe', want mjpeg,1280,720"
out=$(ffmpeg -v error -i "$clip" -f null - 2>&1) || fail "$clip does not decode"
[ -z "$out" ] || fail "$clip decodes with errors: $out"
log "clip $clip: $probe, $(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip") s"

# Boxes: detection saw 320x180; the sidecar speaks in the clip's pixels.
python3 - "${clip%.mp4}.json" <<'PY' || fail "the sidecar's boxes are not in full-size pixels"
import json, sys
s = json.load(open(sys.argv[1]))
print("    sidecar: width %s height %s detect %sx%s boxes %s" % (
    s["width"], s["height"], s["detect_width"], s["detect_height"], s["boxes"]))
bad = []
for k, v in {"width": 1280, "height": 720, "detect_width": 320, "detect_height": 180}.items():
    if s[k] != v:
        bad.append(f"{k} is {s[k]}, want {v}")
boxes = s["boxes"]
if not boxes:
    bad.append("no boxes")
for x, y, w, h in boxes:
    if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > 1280 or y + h > 720:
        bad.append(f"box {[x, y, w, h]} is not inside 1280x720")
if boxes and all(x + w <= 320 and y + h <= 180 for x, y, w, h in boxes):
    bad.append(f"every box {boxes} lies inside 320x180: not scaled to full size")
for b in bad:
    print("    " + b)
sys.exit(1 if bad else 0)
PY

# The snapshot is the camera's own picture of that moment (one full-size
# decode in record), not detection's reduced one.
snap="${clip%.mp4}.jpg"
[ -s "$snap" ] || fail "no snapshot beside $clip"
size=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$snap")
[ "$size" = "1280,720" ] || fail "snapshot $snap is $size, want the camera's 1280,720"
log "snapshot $size"

log "MJPEG 1280x720 decoded at 320x180, only the analysed pictures; boxes and snapshot in full size; ok"
