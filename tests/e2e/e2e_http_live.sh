#!/usr/bin/env bash
# /live.mjpeg against the running pipeline: multipart MJPEG at most
# LIVE_FPS, every part a JPEG that decodes, boxes drawn while people walk;
# a slow viewer skips frames and does not slow a fast one; viewers beyond
# the limit get 503; with no viewer the stage costs (almost) nothing.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 19300)
hport=$(test_port 19350)
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam" HTTP_LISTEN="127.0.0.1:$hport" LIVE_FPS=4
url="http://127.0.0.1:$hport/live.mjpeg"
start_camwatch
wait_for 20 "camwatch-http serving" grep -q "serving http://127.0.0.1:$hport/" "$WORK/camwatch.log"
# Motion starts PLATE_SECONDS into the footage.

wait_for 60 "a first clip" has_clips 1

# parts FILE DIR: split a multipart stream into DIR/N.jpg; prints the count.
parts() {
    mkdir -p "$2"
    /usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys
data, out = open(sys.argv[1], "rb").read(), sys.argv[2]
n, pos = 0, 0
head = re.compile(rb"--camwatchframe\r\nContent-Type: image/jpeg\r\nContent-Length: (\d+)\r\n\r\n")
while True:
    m = head.match(data, pos)
    if not m:
        break
    size = int(m.group(1))
    body = data[m.end():m.end() + size]
    if len(body) < size:
        break  # the last part, cut by the end of the capture
    assert body[:2] == b"\xff\xd8" and body[-2:] == b"\xff\xd9", f"part {n} is not a JPEG"
    assert data[m.end() + size:m.end() + size + 2] == b"\r\n", f"part {n} not followed by CRLF"
    open(f"{out}/{n}.jpg", "wb").write(body)
    n, pos = n + 1, m.end() + size + 2
assert pos > 0, "no part at all"
print(n)
PY
}
box_pixels() {
    ffmpeg -v error -i "$1" -f rawvideo -pix_fmt rgb24 - | /usr/bin/python3 -c '
import sys
d = sys.stdin.buffer.read()
r, g, b = d[0::3], d[1::3], d[2::3]
print(sum(1 for i in range(len(g)) if g[i] > 150 and g[i] > r[i] + 90 and g[i] > b[i] + 90))'
}

# --- one viewer -------------------------------------------------------------
curl -s -D "$WORK/live.headers" --max-time 5 "$url" -o "$WORK/live.bin" || true
grep -qi '^Content-Type: multipart/x-mixed-replace; boundary=camwatchframe' "$WORK/live.headers" ||
    fail "not multipart MJPEG: $(cat "$WORK/live.headers")"
n=$(parts "$WORK/live.bin" "$WORK/live") || fail "the stream does not parse"
log "5 s of /live.mjpeg at LIVE_FPS=4: $n frames"
[ "$n" -ge 12 ] && [ "$n" -le 22 ] || fail "$n frames in 5 s, want about 20 (at most LIVE_FPS=4)"
boxed=0
for f in "$WORK"/live/*.jpg; do
    out=$(ffmpeg -v error -i "$f" -f null - 2>&1) && [ -z "$out" ] || fail "$f does not decode: $out"
    [ "$(box_pixels "$f")" -ge 100 ] && boxed=$((boxed + 1))
done
[ "$boxed" -ge 3 ] || fail "boxes in only $boxed of $n live frames while people walk"
cp "$WORK/live/$((n / 2)).jpg" "$WORK/live-frame.jpg" # the test's artifact
log "every part decodes; boxes in $boxed of $n"

# --- a slow viewer does not slow a fast one -----------------------------------
curl -s --max-time 6 --limit-rate 20k "$url" -o "$WORK/slow.bin" &
slow=$!
sleep 0.5
curl -s --max-time 5 "$url" -o "$WORK/fast.bin" || true
wait "$slow" || true
fast_n=$(parts "$WORK/fast.bin" "$WORK/fast")
slow_n=$(parts "$WORK/slow.bin" "$WORK/slow")
log "beside a viewer reading at 20 KB/s ($slow_n frames in 6 s), a fast one got $fast_n in 5 s"
[ "$fast_n" -ge $((n * 8 / 10)) ] || fail "a slow viewer slowed the fast one to $fast_n frames (alone: $n)"
[ "$slow_n" -lt "$fast_n" ] || fail "the slow viewer did not skip frames ($slow_n >= $fast_n)"

# --- a bounded number of viewers ----------------------------------------------
sleep 3 # the viewers above are gone on the server's side too
viewers=()
for i in $(seq 1 8); do
    curl -s --max-time 15 "$url" -o "$WORK/viewer-$i.bin" &
    viewers+=($!)
done
# Once all eight receive frames (on a loaded machine that may take a moment), a ninth is refused.
all_in() { for i in $(seq 1 8); do head -c 15 "$WORK/viewer-$i.bin" 2>/dev/null | grep -q -- --camwatchframe || return 1; done; }
wait_for 10 "eight viewers receiving frames" all_in
c=$(curl -s -o "$WORK/refused.txt" -w '%{http_code}' --max-time 3 "$url" || true)
[ "$c" = 503 ] || fail "a 9th viewer got $c, want 503"
log "9th viewer: $c $(cat "$WORK/refused.txt")"
for p in "${viewers[@]}"; do wait "$p" || true; done
sleep 1
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
[ "$c" = 200 ] || fail "once the viewers left, a new one got $c"

# --- no viewer, no cost ---------------------------------------------------------
sleep 3 # the encoder notices nobody watches
pid=$(stage_pid http)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
sleep 20
used=$(($(ticks) - t0))
hz=$(getconf CLK_TCK)
log "camwatch-http idle: $used ticks of 1/$hz s in 20 s ($(python3 -c "print(round($used / $hz / 20 * 100, 3))") % of a core)"
# 0.2 % of a core over 20 s is 40 ms.
[ $((used * 1000 / hz)) -le 40 ] || fail "camwatch-http used $used ticks idle, over 0.2 % of a core"
log ok
