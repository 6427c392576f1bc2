# Shared helpers for camwatch's end-to-end tests (sourced, not run).
# Every test gets its own work folder, camera name and port; everything it
# starts is stopped by the EXIT trap, and its logs stay in the work folder.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
BIN=$BUILD
MEDIA=$TOP/build/media # shared by the plain and the sanitizer builds
# CW_TEST_NAME: a test that execs another script keeps its own name.
TEST_NAME=${CW_TEST_NAME:-$(basename "$0" .sh)}
WORK=$BUILD/test-work/$TEST_NAME
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

declare -a CW_PIDS=()
declare -a CW_CLEANUP=() # commands the EXIT trap runs last (e.g. umount)

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
fail() {
    log "FAIL: $*"
    exit 1
}

cleanup() {
    local rc=$?
    for pid in "${CW_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${CW_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    # Stages the supervisor started, should it have died without stopping them.
    if [ -f "$WORK/camwatch.log" ]; then
        for pid in $(grep -o 'started camwatch-[a-z]* pid=[0-9]*' "$WORK/camwatch.log" | cut -d= -f2); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    fi
    rm -f /dev/shm/camwatch."${CAMERA_NAME:-none}".* 2>/dev/null || true
    for c in "${CW_CLEANUP[@]}"; do
        eval "$c" || true
    done
    if [ $rc != 0 ]; then
        for f in "$WORK"/*.log; do
            [ -e "$f" ] || continue
            echo "---- $f (last 40 lines)"
            tail -n 40 "$f"
        done
    fi
    exit $rc
}
trap cleanup EXIT

# A free port from the per-test base, so tests never share a camera.
# CW_TEST_PORT_OFFSET moves every base, for two checkouts testing at once.
test_port() {
    local base=$(($1 + ${CW_TEST_PORT_OFFSET:-0}))
    for p in $(seq "$base" $((base + 40))); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    fail "no free port near $base"
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds,
# every WAIT_POLL_SECONDS (a test that waits for many short steps in a row
# polls faster).
WAIT_POLL_SECONDS=0.25
wait_for() {
    local secs=$1 what=$2
    shift 2
    local end=$((SECONDS + secs))
    while ! "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || fail "timed out after ${secs}s waiting for: $what"
        sleep "$WAIT_POLL_SECONDS"
    done
}

# The test footage: a motion-free background plate (temporal median of
# vtest.avi) for PLATE_SECONDS, then the real footage of people walking, as
# H.264 at 10 fps with a keyframe every second, like a camera's stream.
PLATE_SECONDS=8
# Tests may run side by side (tests/run's TESTS_BESIDE): one builds the
# footage, the others wait for it under the same lock.
prepare_media() {
    mkdir -p "$MEDIA"
    (
        flock 9
        prepare_media_locked
    ) 9>"$MEDIA/.prepare.lock"
}
# vtest_avi: the path of OpenCV's sample clip of people walking: VTEST_AVI,
# the shared media beside the checkout, Debian's opencv-doc if installed,
# else extracted from that package once into $MEDIA (run under the lock:
# prepare_media calls it first).
vtest_avi() {
    local c
    for c in "${VTEST_AVI:-}" "$TOP/../shared/media/vtest.avi" \
        /usr/share/doc/opencv-doc/examples/data/vtest.avi "$MEDIA/vtest.avi"; do
        [ -n "$c" ] && [ -f "$c" ] && { echo "$c"; return 0; }
    done
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download opencv-doc >/dev/null 2>&1 && dpkg -x opencv-doc_*.deb x) ||
        { rm -rf "$tmp"; log "FAIL: vtest.avi not found, and opencv-doc could not be downloaded" >&2; return 1; }
    mkdir -p "$MEDIA" &&
        cp "$tmp/x/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$MEDIA/vtest.avi.tmp" &&
        mv "$MEDIA/vtest.avi.tmp" "$MEDIA/vtest.avi" ||
        { rm -rf "$tmp"; log "FAIL: cannot keep vtest.avi in $MEDIA" >&2; return 1; }
    rm -rf "$tmp"
    echo "$MEDIA/vtest.avi"
}
prepare_media_locked() {
    local src
    src=$(vtest_avi) || exit 1
    [ -s "$MEDIA/camera.mp4" ] && [ -s "$MEDIA/plate-md5.txt" ] && return 0
    log "preparing test footage from $src"
    ffmpeg -loglevel error -y -i "$src" \
        -vf "select='not(mod(n\,6))',tmedian=radius=60,setpts=N/TB" -vsync 0 "$MEDIA/median%03d.png"
    mv "$MEDIA/median006.png" "$MEDIA/plate.png"
    rm -f "$MEDIA"/median*.png
    ffmpeg -loglevel error -y -loop 1 -framerate 10 -t "$PLATE_SECONDS" -i "$MEDIA/plate.png" \
        -i "$src" -filter_complex \
        "[0:v]format=yuv420p,setsar=1[a];[1:v]fps=10,format=yuv420p,setsar=1[b];[a][b]concat=n=2:v=1[v]" \
        -map '[v]' -c:v libx264 -preset veryfast -g 10 -keyint_min 10 -sc_threshold 0 -bf 0 \
        -an "$MEDIA/camera.mp4.tmp.mp4"
    mv "$MEDIA/camera.mp4.tmp.mp4" "$MEDIA/camera.mp4"
    # Decoded MD5s of the plate frames: a clip whose first picture is one of
    # them started before the first motion.
    ffmpeg -loglevel error -i "$MEDIA/camera.mp4" -frames:v $((PLATE_SECONDS * 10)) \
        -f framemd5 - | grep -v '^#' | awk -F', *' '{print $6}' >"$MEDIA/plate-md5.txt"
    # Packet MD5s of the source: copied packets in a clip are among them.
    ffmpeg -loglevel error -i "$MEDIA/camera.mp4" -map 0:v -c copy -f framemd5 - |
        grep -v '^#' | awk -F', *' '{print $6}' >"$MEDIA/packet-md5.txt"
}

# start_fakecam PORT [ARGS...]: the test camera, waiting until it serves.
FAKECAM_PID=
start_fakecam() {
    local port=$1
    shift
    "$BIN/camwatch-fakecam" --port "$port" --path /cam "$@" >>"$WORK/fakecam.log" 2>&1 &
    FAKECAM_PID=$!
    CW_PIDS+=("$FAKECAM_PID")
    wait_for 20 "test camera on port $port" grep -q "serving rtsp://127.0.0.1:$port" "$WORK/fakecam.log"
}

stop_fakecam() {
    kill -TERM "$FAKECAM_PID" 2>/dev/null || true
    wait "$FAKECAM_PID" 2>/dev/null || true
}

# camwatch's environment for a test: short delays so tests run quickly.
camwatch_env() {
    # CW_TEST_TAG keeps the rings (and the one-supervisor-per-camera claim)
    # of two checkouts testing at once apart.
    export CAMERA_NAME=${CAMERA_NAME:-$TEST_NAME${CW_TEST_TAG:+-$CW_TEST_TAG}}
    export VIDEO_DIR=${VIDEO_DIR:-$WORK/video}
    export RETRY_SECONDS=${RETRY_SECONDS:-1}
    export TIMEOUT_SECONDS=${TIMEOUT_SECONDS:-3}
    export PRE_CAPTURE_SECONDS=${PRE_CAPTURE_SECONDS:-3}
    export POST_CAPTURE_SECONDS=${POST_CAPTURE_SECONDS:-2}
    export MAX_CLIP_SECONDS=${MAX_CLIP_SECONDS:-10}
    export LOGLEVEL=${LOGLEVEL:-INFO}
    rm -f /dev/shm/camwatch."$CAMERA_NAME".*
}

CAMWATCH_PID=
start_camwatch() {
    camwatch_env
    "$BIN/camwatch" >>"$WORK/camwatch.log" 2>&1 &
    CAMWATCH_PID=$!
    CW_PIDS+=("$CAMWATCH_PID")
}

# stop_camwatch: SIGTERM, and camwatch must exit 0.
stop_camwatch() {
    kill -TERM "$CAMWATCH_PID"
    local rc=0
    wait "$CAMWATCH_PID" || rc=$?
    [ $rc = 0 ] || fail "camwatch exited with $rc after SIGTERM, want 0"
}

# Several runs of camwatch in one test append to one camwatch.log: new_run
# marks where the next one starts (and empties VIDEO_DIR); run_log prints
# that run's lines, run_has PATTERN greps them.
new_run() {
    local lines=0
    [ ! -f "$WORK/camwatch.log" ] || lines=$(wc -l <"$WORK/camwatch.log")
    RUN_START=$((lines + 1))
    rm -rf "$VIDEO_DIR"
}
run_log() { tail -n +"$RUN_START" "$WORK/camwatch.log"; }
run_has() { run_log | grep -q -- "$1"; }

# PID of the supervisor's running child camwatch-STAGE (empty if none).
stage_pid() {
    # Match the command line: process names are cut at 15 characters.
    pgrep -P "$CAMWATCH_PID" -f "(^|/)camwatch-$1\$" || true
}

# Finished clips (never the staging folder).
clips() {
    find "$VIDEO_DIR" -path "$VIDEO_DIR/.staging" -prune -o -name '*.mp4' -print 2>/dev/null | sort
}
clip_count() { clips | wc -l; }
has_clips() { [ "$(clip_count)" -ge "${1:-1}" ]; }

# check_playable CLIP: the whole file decodes without a single error.
check_playable() {
    local out
    out=$(ffmpeg -v error -i "$1" -f null - 2>&1) || fail "$1 does not decode"
    [ -z "$out" ] || fail "$1 decodes with errors: $out"
    local codec
    codec=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$1")
    [ "$codec" = h264 ] || fail "$1 has codec '$codec', want h264"
}

# sidecar_field CLIP FIELD: one value of the clip's JSON sidecar.
sidecar_field() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' \
        "${1%.mp4}.json" "$2"
}

# check_video_dir [LOG]: nothing incomplete in VIDEO_DIR (the staging folder
# aside). Only date folders, holding only clips: every .mp4 has its .jpg and
# .json beside it (and they name it), no file is empty, every .mp4's boxes
# tile the whole file (nothing torn off inside a box), it decodes without
# error and lasts what its sidecar says (nothing cut off at a fragment's
# end). record delivers a video even when its snapshot could not be written
# (rec_deliver, a full disk): a missing one is accepted only if LOG (default
# camwatch.log) has record's error naming that very file. The sidecar is
# written first, so it is never missing (retention knows a clip by it). A
# snapshot or sidecar without its video is given 5 s: the video is renamed
# in last.
check_video_dir() {
    local log=${1:-$WORK/camwatch.log} problems end=$((SECONDS + 5)) c out dur
    while ! problems=$(python3 - "$VIDEO_DIR" "$log" <<'PY'
import json, os, re, struct, sys
top, bad, notes = sys.argv[1], [], []
try:
    errors = [l for l in open(sys.argv[2], errors="replace") if " ERROR: " in l]
except OSError:
    errors = []
def torn(p):
    size, off, kinds = os.path.getsize(p), 0, []
    with open(p, "rb") as f:
        while off + 8 <= size:
            f.seek(off)
            n, kind = struct.unpack(">I4s", f.read(8))
            n = struct.unpack(">Q", f.read(8))[0] if n == 1 else n
            if n < 8:
                break
            kinds.append(kind)
            off += n
    if off != size or kinds[:1] != [b"ftyp"] or b"moov" not in kinds:
        return f"torn: boxes {b' '.join(kinds[:4]).decode()}... end at {off} of {size} bytes"
for day in sorted(os.listdir(top)):
    d = os.path.join(top, day)
    if day == ".staging":
        continue
    if not (re.fullmatch(r"\d{4}-\d\d-\d\d", day) and os.path.isdir(d)):
        bad.append(f"{d}: not a date folder")
        continue
    names = os.listdir(d)
    for n in sorted(names):
        p = os.path.join(d, n)
        m = re.fullmatch(r"(.+)\.(mp4|jpg|json)", n)
        if not m or os.path.islink(p) or not os.path.isfile(p):
            bad.append(f"{p}: neither a clip, a snapshot nor a sidecar")
        elif os.path.getsize(p) == 0:
            bad.append(f"{p}: empty")
        elif m[1] + ".mp4" not in names:
            bad.append(f"{p}: its video {m[1]}.mp4 is not there")
        elif m[2] == "mp4":
            why = torn(p)
            if why:
                bad.append(f"{p}: {why}")
            for ext in ("jpg", "json"):
                part = f"/{m[1]}.{ext}.part"
                logged = [l for l in errors if part in l]
                if f"{m[1]}.{ext}" in names:
                    continue
                if logged and ext == "jpg":
                    notes.append(f"{m[1]}.{ext} is missing, as record said: {logged[0].strip()}")
                else:
                    bad.append(f"{p}: no {m[1]}.{ext} beside it, and record logged no error about it")
        elif m[2] == "json":
            try:
                s = json.load(open(p))
                assert s["video"] == m[1] + ".mp4", "names another video"
                want = m[1] + ".jpg" if m[1] + ".jpg" in names else None
                assert s["snapshot"] == want, f"snapshot {s['snapshot']!r}, want {want!r}"
                float(s["duration_seconds"])
            except Exception as e:
                bad.append(f"{p}: not a complete sidecar of {m[1]}.mp4 ({e!r})")
print("\n".join(bad or notes))
sys.exit(1 if bad else 0)
PY
    ); do
        [ $SECONDS -lt $end ] || fail "incomplete files in $VIDEO_DIR:"$'\n'"$problems"
        sleep 0.5
    done
    [ -z "$problems" ] || log "$problems"
    for c in $(clips); do
        check_playable "$c"
        if [ -e "${c%.mp4}.jpg" ]; then
            out=$(ffmpeg -v error -i "${c%.mp4}.jpg" -f null - 2>&1) && [ -z "$out" ] ||
                fail "${c%.mp4}.jpg does not decode: $out"
        fi
        [ -e "${c%.mp4}.json" ] || continue
        dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$c")
        python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 0.25)' \
            "$dur" "$(sidecar_field "$c" duration_seconds)" ||
            fail "$c lasts $dur s, its sidecar says $(sidecar_field "$c" duration_seconds) s"
    done
}
