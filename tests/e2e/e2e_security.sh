#!/usr/bin/env bash
# The locked door (issue 11, security):
# - while camwatch runs, its three rings are shared-memory objects of mode
#   0600 owned by the user camwatch runs as;
# - a stage started by hand refuses a ring another user left under its name
#   (made here by the stage itself run as nobody, with setpriv), and one
#   cut short whose header says so (its geometry no longer fits the object):
#   exit 78, a message naming it;
# - ON_CLIP_READY gets the clip's paths only through its environment: with
#   a VIDEO_DIR holding spaces, ';', $(...) and backquotes, and a camera
#   name that starts like an option, the hook receives the exact paths, no
#   argument, and none of the commands in the folder name runs.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 18950)
export CAMERA_NAME="--sec_${CW_TEST_TAG:-none}"
canary=$WORK/canary
mkdir -p "$canary"
export VIDEO_DIR="$WORK/clips; touch $canary/semicolon; \$(touch $canary/subst) \`touch $canary/backquote\` & touch $canary/amp"
export HOOK_OUT=$WORK/hook.out
# The hook writes what it received, NUL-separated, so any byte shows.
export ON_CLIP_READY='printf "%s\0" "$#" "$CLIP_PATH" "$SNAPSHOT_PATH" "$SIDECAR_PATH" >>"$HOOK_OUT"'
camwatch_env
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch

rings=(/dev/shm/camwatch."$CAMERA_NAME".{packets,frames,events})
rings_exist() { for r in "${rings[@]}"; do [ -e "$r" ] || return 1; done; }
wait_for 20 "the three rings" rings_exist
for r in "${rings[@]}"; do
    st=$(stat -c '%a %u' "$r")
    [ "$st" = "600 $(id -u)" ] || fail "$r has mode and owner '$st', want '600 $(id -u)'"
done
log "rings are 0600, owned by uid $(id -u): $(stat -c '%n' "${rings[@]}" | tr '\n' ' ')"

wait_for 90 "a clip, and its hook" test -s "$HOOK_OUT"
clip=$(clips | head -n 1)
[ -n "$clip" ] || fail "the hook ran, but there is no clip in $VIDEO_DIR"
case "$clip" in "$VIDEO_DIR"/*) ;; *) fail "clip $clip is not in VIDEO_DIR" ;; esac
[ -z "$(ls -A "$canary")" ] || fail "a command in VIDEO_DIR ran: $(ls "$canary")"
mapfile -d '' got <"$HOOK_OUT"
[ "${got[0]}" = 0 ] || fail "the hook got ${got[0]} arguments, want none"
[ "${got[1]}" = "$clip" ] || fail "CLIP_PATH is '${got[1]}', the clip is '$clip'"
[ "${got[2]}" = "${clip%.mp4}.jpg" ] || fail "SNAPSHOT_PATH is '${got[2]}'"
[ "${got[3]}" = "${clip%.mp4}.json" ] || fail "SIDECAR_PATH is '${got[3]}'"
log "hook got exactly CLIP_PATH=$clip (and its snapshot and sidecar), no argument; nothing ran"
kill -TERM "$CAMWATCH_PID"
wait "$CAMWATCH_PID" 2>/dev/null || true
stop_fakecam

# expect_refused WHY [TEXT]: camwatch-detect by hand must exit 78 naming the
# ring, followed by TEXT (the reason).
expect_refused() {
    local rc=0
    timeout 20 "$BIN/camwatch-detect" >"$WORK/detect.out" 2>&1 </dev/null || rc=$?
    [ $rc = 78 ] || fail "camwatch-detect with $1 exited $rc, want 78: $(tail -n 3 "$WORK/detect.out")"
    grep -q "camwatch.$CAMERA_NAME.frames${2:-}" "$WORK/detect.out" ||
        fail "camwatch-detect with $1 does not name the ring: $(cat "$WORK/detect.out")"
    log "$1: exit 78: $(grep -m1 ERROR "$WORK/detect.out")"
}

# Another user's rings: the stage itself run as nobody leaves them (root
# only: setpriv and chown; otherwise the stage leaves rings of our own).
rm -f "${rings[@]}"
as_nobody=()
[ "$(id -u)" = 0 ] && as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${as_nobody[@]}" "$BIN/camwatch-detect" >"$WORK/nobody.log" 2>&1 &
nobody_pid=$!
CW_PIDS+=("$nobody_pid")
wait_for 20 "the stage's rings" test -e "/dev/shm/camwatch.$CAMERA_NAME.events" -a -e "/dev/shm/camwatch.$CAMERA_NAME.frames"
kill -TERM "$nobody_pid"
wait "$nobody_pid" 2>/dev/null || true
if [ "$(id -u)" = 0 ]; then
    [ "$(stat -c %u "/dev/shm/camwatch.$CAMERA_NAME.frames")" = 65534 ] || fail "the ring is not nobody's"
    expect_refused "a ring owned by uid 65534" " belongs to uid 65534"
    # The same ring, given to us: accepted (the owner was the reason).
    chown "$(id -u):$(id -g)" "${rings[@]:1}"
else
    log "not root: no ring of another user can be made; that check is skipped"
fi
rc=0
timeout 3 "$BIN/camwatch-detect" >"$WORK/detect.out" 2>&1 </dev/null || rc=$?
[ $rc = 124 ] || fail "camwatch-detect refused its own ring (exit $rc): $(tail -n 3 "$WORK/detect.out")"
# Now cut the frames ring 1 MiB short, and make its header say so: the
# geometry still matches the configuration, but no longer fits the object.
python3 - "/dev/shm/camwatch.$CAMERA_NAME.frames" <<'PY'
import os, struct, sys
path = sys.argv[1]
size = os.path.getsize(path) - (1 << 20)
os.truncate(path, size)
with open(path, "r+b") as f:
    f.seek(32)  # CwRingHeader.total_size
    f.write(struct.pack("<Q", size))
PY
expect_refused "a ring whose header does not fit its object" " is broken"
log ok
