#!/usr/bin/env bash
# camwatch-http against the running pipeline and the test camera: each
# endpoint's content (/healthz, /api/status as `camwatch status --json`
# says, /metrics parsed as Prometheus text, /latest.jpg decoding with boxes
# drawn while motion plays, /api/clips from the sidecars, /clips/ files
# byte for byte with ranges), HTTP Basic (401 without the password), path
# traversal refused (.., %2e%2e, symlinks out of VIDEO_DIR), and SIGKILL of
# camwatch-http during a clip: the clip is delivered, http is restarted,
# no other stage restarts.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 19100)
hport=$(test_port 19150)
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
export HTTP_LISTEN="127.0.0.1:$hport" HTTP_PASSWORD="Web-Secret7"
base="http://127.0.0.1:$hport"
start_camwatch
wait_for 20 "camwatch-http serving" grep -q "serving http://127.0.0.1:$hport/" "$WORK/camwatch.log"

# code URL [CURL ARGS...]: the status code; the body in $WORK/body, headers in $WORK/headers.
code() {
    local url=$1
    shift
    curl -s --path-as-is -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@" "$base$url"
}
auth=(-u "viewer:$HTTP_PASSWORD")

# --- /healthz: no password; ok once the camera delivers -------------------
wait_for 30 "/healthz 200" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $base/healthz)\" = 200 ]"
[ "$(code /healthz)" = 200 ] && [ "$(cat "$WORK/body")" = ok ] || fail "/healthz: $(cat "$WORK/body")"

# --- HTTP Basic -------------------------------------------------------------
for url in /api/status /metrics /latest.jpg /api/clips; do
    c=$(code "$url")
    [ "$c" = 401 ] || fail "$url without a password answered $c, want 401"
    grep -qi '^WWW-Authenticate: Basic realm="camwatch"' "$WORK/headers" || fail "$url: no Basic challenge"
    c=$(code "$url" -u viewer:wrong-password)
    [ "$c" = 401 ] || fail "$url with a wrong password answered $c, want 401"
done
log "401 without the password and with a wrong one"

# --- /api/status is what `camwatch status --json` prints ---------------------
wait_for 60 "a first clip" has_clips 1
[ "$(code /api/status "${auth[@]}")" = 200 ] || fail "/api/status: $(cat "$WORK/body")"
cp "$WORK/body" "$WORK/api-status.json"
"$BIN/camwatch" status --json >"$WORK/cli-status.json"
/usr/bin/python3 - "$WORK/api-status.json" "$WORK/cli-status.json" <<'PY' || fail "/api/status and camwatch status --json differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a.keys() == b.keys(), (a.keys(), b.keys())
sa = {s["name"]: (s["state"], s["pid"], s["restarts"]) for s in a["stages"]}
sb = {s["name"]: (s["state"], s["pid"], s["restarts"]) for s in b["stages"]}
assert sa == sb, (sa, sb)
assert sa["camwatch-http"][0] == "running", sa
assert a["supervisor"]["pid"] == b["supervisor"]["pid"]
assert a["clips"]["last"] == b["clips"]["last"], (a["clips"], b["clips"])
print("same stages:", sa)
PY

# --- /metrics parses as Prometheus text ------------------------------------
[ "$(code /metrics "${auth[@]}")" = 200 ] || fail "/metrics: $(cat "$WORK/body")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/headers" || fail "/metrics content type"
/usr/bin/python3 - "$WORK/body" "$CAMERA_NAME" <<'PY' || fail "/metrics is not the expected Prometheus text"
import sys
from prometheus_client.parser import text_string_to_metric_families
text, camera = open(sys.argv[1]).read(), sys.argv[2]
samples = {}
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        assert s.labels["camera"] == camera, s
        samples[(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "camera")))] = s.value
def get(name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]
assert get("camwatch_camera_online") == 1
assert 7 <= get("camwatch_fps", kind="input") <= 13, get("camwatch_fps", kind="input")
for st in ("capture", "detect", "record", "http"):
    assert get("camwatch_stage_up", stage="camwatch-" + st) == 1, st
    assert get("camwatch_stage_restarts_total", stage="camwatch-" + st) == 0, st
assert get("camwatch_clips_today") >= 1
assert get("camwatch_motion_events_total") >= 1
assert get("camwatch_stream_connected", stream="main") == 1
assert get("camwatch_stream_bytes_total", stream="main") > 0
assert get("camwatch_stream_packets_total", stream="main") > 0
assert get("camwatch_stream_reconnects_total", stream="main") == 0
assert get("camwatch_stream_bitrate_kbps", stream="main") > 0
assert ("camwatch_stream_bytes_total", (("stream", "sub"),)) not in samples  # no DETECT_URL
assert get("camwatch_disk_free_bytes") > 0
print(len(samples), "samples parsed")
PY

# --- /latest.jpg: a JPEG of the camera's size; boxes while motion plays ----
# box_pixels JPEG: pixels of the outline's green (nothing in the footage is that green).
box_pixels() {
    ffmpeg -v error -i "$1" -f rawvideo -pix_fmt rgb24 - | /usr/bin/python3 -c '
import sys
d = sys.stdin.buffer.read()
r, g, b = d[0::3], d[1::3], d[2::3]
print(sum(1 for i in range(len(g)) if g[i] > 150 and g[i] > r[i] + 90 and g[i] > b[i] + 90))'
}
w=$(ffprobe -v error -select_streams v:0 -show_entries stream=width -of csv=p=0 "$MEDIA/camera.mp4")
boxed=0
for i in $(seq 1 30); do
    [ "$(code /latest.jpg "${auth[@]}")" = 200 ] || fail "/latest.jpg: $(cat "$WORK/body")"
    grep -qi '^Content-Type: image/jpeg' "$WORK/headers" || fail "/latest.jpg is not image/jpeg"
    out=$(ffmpeg -v error -i "$WORK/body" -f null - 2>&1) && [ -z "$out" ] || fail "/latest.jpg does not decode: $out"
    [ "$(ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 "$WORK/body")" = "mjpeg,$w" ] ||
        fail "/latest.jpg is not a $w px wide JPEG"
    with=$(box_pixels "$WORK/body")
    code "/latest.jpg?boxes=0" "${auth[@]}" >/dev/null
    without=$(box_pixels "$WORK/body")
    [ "$without" -lt 20 ] || fail "?boxes=0 shows $without pixels of box outline"
    if [ "$with" -ge 100 ]; then
        boxed=$((boxed + 1))
        cp "$WORK/body" "$WORK/latest-with-boxes.jpg" # kept as the test's artifact
    fi
    sleep 0.3
done
[ "$boxed" -ge 3 ] || fail "boxes drawn in only $boxed of 30 frames while people walk"
log "/latest.jpg: boxes in $boxed of 30 frames, none with ?boxes=0"
# ?width=: at most that wide, the camera's aspect kept; nonsense refused.
h=$(ffprobe -v error -select_streams v:0 -show_entries stream=height -of csv=p=0 "$MEDIA/camera.mp4")
[ "$(code "/latest.jpg?width=320" "${auth[@]}")" = 200 ] || fail "/latest.jpg?width=320: $(cat "$WORK/body")"
want="320,$(((h * 320 + w / 2) / w / 2 * 2))"
got=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$WORK/body")
[ "$got" = "$want" ] || fail "/latest.jpg?width=320 is $got, want $want"
[ "$(code "/latest.jpg?width=$((w * 2))" "${auth[@]}")" = 200 ] &&
    [ "$(ffprobe -v error -show_entries stream=width -of csv=p=0 "$WORK/body")" = "$w" ] ||
    fail "/latest.jpg?width= beyond the camera's width is not the camera's size"
for bad in 0 abc 12x -5 99999; do
    [ "$(code "/latest.jpg?width=$bad" "${auth[@]}")" = 400 ] && grep -q "width: use a whole number" "$WORK/body" ||
        fail "/latest.jpg?width=$bad was not refused with a message"
done
log "/latest.jpg?width=320: $got; too wide: the camera's ${w}px; bad widths refused"

# --- /api/clips and /clips/ -------------------------------------------------
clip=$(clips | tail -n 1)
day=$(basename "$(dirname "$clip")")
name=$(basename "$clip")
[ "$(code "/api/clips?date=$day&limit=5" "${auth[@]}")" = 200 ] || fail "/api/clips: $(cat "$WORK/body")"
/usr/bin/python3 - "$WORK/body" "$day" "$name" <<'PY' || fail "/api/clips does not list $name"
import json, sys
clips, day, name = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
assert clips and all(c["date"] == day for c in clips), clips
starts = [c["video"] for c in clips]
assert starts == sorted(starts, reverse=True), starts
c = next(c for c in clips if c["video"] == name)
assert c["video_url"] == f"/clips/{day}/{name}", c
assert c["snapshot_url"] == f"/clips/{day}/{name[:-4]}.jpg", c
print(len(clips), "clips; newest", starts[0])
PY
[ "$(code "/api/clips?limit=1" "${auth[@]}")" = 200 ] || fail "/api/clips?limit=1"
[ "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/body")" = 1 ] || fail "limit=1 gave more"
[ "$(code "/api/clips?date=yesterday" "${auth[@]}")" = 400 ] || fail "a bad date was not refused"
[ "$(code "/api/clips?limit=0" "${auth[@]}")" = 400 ] || fail "limit=0 was not refused"

size=$(stat -c %s "$clip")
[ "$(code "/clips/$day/$name" "${auth[@]}")" = 200 ] || fail "/clips/$day/$name: $(cat "$WORK/body")"
cmp -s "$WORK/body" "$clip" || fail "/clips/$day/$name is not the clip"
grep -qi '^Accept-Ranges: bytes' "$WORK/headers" || fail "no Accept-Ranges"
[ "$(code "/clips/$day/$name" "${auth[@]}" -H 'Range: bytes=100-1099')" = 206 ] || fail "a range was not honoured"
grep -qi "^Content-Range: bytes 100-1099/$size" "$WORK/headers" || fail "Content-Range: $(grep -i content-range "$WORK/headers")"
cmp -s "$WORK/body" <(tail -c +101 "$clip" | head -c 1000) || fail "bytes 100-1099 are not the clip's"
[ "$(code "/clips/$day/$name" "${auth[@]}" -H 'Range: bytes=-500')" = 206 ] || fail "a suffix range was not honoured"
cmp -s "$WORK/body" <(tail -c 500 "$clip") || fail "the last 500 bytes are not the clip's"
[ "$(code "/clips/$day/$name" "${auth[@]}" -H "Range: bytes=$size-")" = 416 ] || fail "a range beyond the end was not refused"
grep -qi "^Content-Range: bytes \*/$size" "$WORK/headers" || fail "416 without Content-Range"
[ "$(code "/clips/$day/${name%.mp4}.jpg" "${auth[@]}")" = 200 ] && cmp -s "$WORK/body" "${clip%.mp4}.jpg" || fail "snapshot not served"
log "/clips/: whole file, ranges 100-1099 and -500, 416 beyond the end"

# --- nothing outside VIDEO_DIR ---------------------------------------------
mkdir -p "$WORK/outside"
echo '{"secret": "outside VIDEO_DIR"}' >"$WORK/outside/secret.json"
echo 'secret' >"$WORK/secret.txt"
ln -s "$WORK/outside" "$VIDEO_DIR/2000-01-01"                 # a date folder that leads out
ln -s "$WORK/outside/secret.json" "$VIDEO_DIR/$day/link.json" # a file that leads out
for url in "/clips/../camwatch.log" "/clips/$day/../../camwatch.log" "/clips/%2e%2e/camwatch.log" \
    "/clips/$day/%2e%2e/%2e%2e/camwatch.log" "/clips/$day/..%2f..%2fcamwatch.log" \
    "/clips/%2e%2e%2f%2e%2e%2fsecret.txt" "/clips/2000-01-01/secret.json" "/clips/$day/link.json" \
    "/clips/$day/.staging" "/clips/.staging/x.mp4" "/clips//etc/passwd" "/clips/$day"; do
    c=$(code "$url" "${auth[@]}")
    case "$c" in 403 | 404) ;; *) fail "$url answered $c, want 403 or 404" ;; esac
    grep -q 'secret\|camwatch-http\|root:' "$WORK/body" && fail "$url leaked: $(head -c 200 "$WORK/body")"
done
rm "$VIDEO_DIR/2000-01-01" "$VIDEO_DIR/$day/link.json"
log "traversal refused: .., %2e%2e, ..%2f, symlinked folder and file"

# --- SIGKILL of camwatch-http during a clip --------------------------------
wait_for 60 "a clip being recorded" compgen -G "$VIDEO_DIR/.staging/*.part"
n_before=$(clip_count)
others="$(stage_pid capture) $(stage_pid detect) $(stage_pid record)"
old=$(stage_pid http)
kill -KILL "$old"
log "killed camwatch-http pid $old mid-clip"
wait_for 20 "camwatch-http restarted" sh -c "p=\$(pgrep -P $CAMWATCH_PID -f '(^|/)camwatch-http\$'); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
wait_for 20 "http serving again" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $base/healthz)\" = 200 ]"
wait_for 60 "the clip recording during the kill to be delivered" has_clips $((n_before + 1))
[ "$(stage_pid capture) $(stage_pid detect) $(stage_pid record)" = "$others" ] || fail "another stage restarted"
grep -q "camwatch-http pid=$old killed by signal 9" "$WORK/camwatch.log" || fail "the kill is not logged"
[ "$(grep -c 'started camwatch-\(capture\|detect\|record\)' "$WORK/camwatch.log")" = 3 ] || fail "a data-path stage was started twice"
check_video_dir
"$BIN/camwatch" status --json >"$WORK/after.json"
/usr/bin/python3 -c '
import json, sys
st = {s["name"]: s for s in json.load(open(sys.argv[1]))["stages"]}
assert st["camwatch-http"]["restarts"] == 1 and st["camwatch-http"]["last_exit"]["signal"] == "SIGKILL", st["camwatch-http"]
assert all(st[n]["restarts"] == 0 for n in ("camwatch-capture", "camwatch-detect", "camwatch-record")), st
' "$WORK/after.json" || fail "status does not show http's restart alone"
log "SIGKILL of camwatch-http: clip delivered, http restarted, nothing else restarted"
log ok
