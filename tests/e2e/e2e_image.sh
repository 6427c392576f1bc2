#!/usr/bin/env bash
# End to end: the container image. Builds the Dockerfile with podman and
# records clips with the image, both ways docs/running.md offers:
#   1. one container running the supervisor (the image's default command),
#      as `docker run` does, as the image's own non-root user;
#   2. the three stages as three containers started as compose.yaml describes
#      them (read through `docker-compose config` and tests/e2e/compose-to-
#      podman), in an order compose would not use (record, capture, detect),
#      sharing one tmpfs at /dev/shm as compose's `rings` volume does; then
#      capture is restarted alone and must go on feeding the same rings.
# Each time: a clip that decodes without error appears in the mounted
# VIDEO_DIR, owned by the image's user, and every container stops with 0.
#
# No Docker engine and no image registry here: the Debian 12 base is made
# with debootstrap (kept in build/image/, so only the first run pays) and
# imported as debian:12-slim; podman runs with runc (crun fails on hosts with
# hybrid cgroups) and ulimits within this machine's hard limits. Needs root
# (debootstrap, a tmpfs mount) and scripts/install-deps's packages.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || fail "needs root: debootstrap and the tmpfs mount do (run under sudo)"
for tool in podman runc debootstrap docker-compose ffprobe; do
    command -v "$tool" >/dev/null || fail "$tool is not installed: run scripts/install-deps"
done

PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
TAG=${CW_TEST_TAG:-local}
IMAGE=localhost/camwatch-test:$TAG # one per checkout: two may build at once
BASE=docker.io/library/debian:12-slim
CACHE=$TOP/build/image # shared by the plain and the sanitizer builds
PREFIX=camwatch-test-$TAG
mkdir -p "$CACHE"

declare -a CONTAINERS=() MOUNTS=() ROOTS=()
image_cleanup() {
    local c m r
    for c in "${CONTAINERS[@]}"; do
        podman logs "$c" >"$WORK/$c.log" 2>&1 || true
        podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
    done
    for m in "${MOUNTS[@]}"; do
        umount "$m" 2>/dev/null || true
    done
    for r in "${ROOTS[@]}"; do # a debootstrap cut short may leave /proc mounted
        umount -R "$r/proc" "$r/sys" 2>/dev/null || true
        rm -rf --one-file-system "$r"
    done
}
CW_CLEANUP+=(image_cleanup)

# timed WHAT LOGFILE COMMAND...: runs COMMAND into LOGFILE, logs how long it took.
timed() {
    local what=$1 out=$2 t0=$EPOCHREALTIME
    shift 2
    "$@" >>"$out" 2>&1 || fail "$what failed: $(tail -n 20 "$out")"
    log "$what: $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $t0 }") s"
}

# The Debian mirror this host's apt uses (deb822 or one-line format).
debian_mirror() {
    local f=/etc/apt/sources.list.d/debian.sources uri=
    if [ -f "$f" ]; then
        uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
            { u = ""; s = 0
              for (i = 1; i <= NF; i++) {
                  if ($i ~ /^URIs:/) { split($i, w, " "); u = w[2] }
                  if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) s = 1 }
              if (s && u != "") { print u; exit } }' "$f")
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list |
            awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# 1. The base image: debian:12-slim as the Dockerfile names it.
if podman image exists "$BASE"; then
    log "base image $BASE is in podman's storage"
else
    tarball=$CACHE/debian-12-minbase.tar
    if [ ! -s "$tarball" ]; then
        root=$CACHE/root.$$
        ROOTS+=("$root")
        mirror=$(debian_mirror)
        log "making a Debian 12 root with debootstrap from $mirror"
        timed debootstrap "$WORK/debootstrap.log" \
            debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror"
        # As a slim image: no package lists nor downloaded packages.
        tar -C "$root" --exclude='./var/cache/apt/archives/*.deb' \
            --exclude='./var/lib/apt/lists/*' -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf --one-file-system "$root"
    fi
    timed "podman import" "$WORK/import.log" podman import "$tarball" localhost/debian:12
    podman tag localhost/debian:12 "$BASE"
fi

# 2. The image, built as users build it (podman reads .dockerignore).
old_id=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
timed "image build" "$WORK/build.log" "${PODMAN[@]}" build --pull=never --network host \
    "${LIMITS[@]}" -t "$IMAGE" -f "$TOP/Dockerfile" "$TOP"
new_id=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    podman rmi "$old_id" >/dev/null 2>&1 || true # this checkout's previous build
fi

# Every library the six programs link is in the image.
"${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" "$IMAGE" sh -c '
    n=0
    for p in camwatch camwatch-capture camwatch-detect camwatch-record camwatch-http camwatch-mqtt; do
        [ -x /usr/local/bin/$p ] || { echo "$p: not in /usr/local/bin"; exit 1; }
        ldd /usr/local/bin/$p | sed -n "s|^|$p: |; /not found/p"
        n=$((n + 1))
    done
    echo "programs: $n"' >"$WORK/ldd.txt" 2>&1 || fail "ldd in the image: $(cat "$WORK/ldd.txt")"
! grep 'not found' "$WORK/ldd.txt" || fail "the image lacks libraries the programs link (above)"
grep -qx 'programs: 6' "$WORK/ldd.txt" || fail "ldd in the image: $(cat "$WORK/ldd.txt")"

# The user the image declares: not root, and the uid compose runs stages as.
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[ -n "$user" ] || fail "the image declares no USER: it would run as root"
uid=$("${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" "$IMAGE" id -u)
gid=$("${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" "$IMAGE" id -g)
[ "$uid" != 0 ] || fail "the image's user '$user' is root"
log "image $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=si)B, user $user (uid $uid, gid $gid)"

# The test camera on the host's loopback; containers on the host network reach it.
prepare_media
port=$(test_port 19020)
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
camwatch_env
# The configuration as users write it: an env file (docker run --env-file,
# compose's env_file).
for v in RTSP_URL CAMERA_NAME RETRY_SECONDS TIMEOUT_SECONDS PRE_CAPTURE_SECONDS \
    POST_CAPTURE_SECONDS MAX_CLIP_SECONDS LOGLEVEL; do
    printf '%s=%s\n' "$v" "${!v}"
done >"$WORK/.env"

# video_dir NAME: a clips folder the image's user owns, as VIDEO_DIR for clips().
video_dir() {
    VIDEO_DIR=$WORK/$1
    install -d -o "$uid" -g "$gid" "$VIDEO_DIR"
}

# check_clips: every finished clip decodes, is the image user's, has its
# sidecar; nothing is left half-written in the staging folder.
check_clips() {
    local c n=0
    for c in $(clips); do
        check_playable "$c"
        [ "$(stat -c %u "$c")" = "$uid" ] || fail "$c is owned by uid $(stat -c %u "$c"), want $uid"
        [ -s "${c%.mp4}.json" ] || fail "no sidecar beside $c"
        n=$((n + 1))
    done
    [ $n -ge 1 ] || fail "no clip in $VIDEO_DIR"
    ! compgen -G "$VIDEO_DIR/.staging/*.part" >/dev/null || fail "a clip was left in $VIDEO_DIR/.staging"
    log "$n clips in $VIDEO_DIR decode, owned by uid $uid"
}

# stop_container NAME SECONDS: stops it as docker stop does; it must exit 0.
stop_container() {
    podman stop -t "$2" "$1" >/dev/null
    local rc
    rc=$(podman inspect --format '{{.State.ExitCode}}' "$1")
    [ "$rc" = 0 ] || fail "container $1 exited with $rc after SIGTERM, want 0"
}

# 3. The supervisor in one container, as docs/running.md's `docker run`.
video_dir video-supervisor
name=$PREFIX-supervisor
podman rm -f -t 0 "$name" >/dev/null 2>&1 || true # left by a run killed with SIGKILL
CONTAINERS+=("$name")
t0=$SECONDS
"${PODMAN[@]}" run -d --name "$name" --network host "${LIMITS[@]}" --env-file "$WORK/.env" \
    -e VIDEO_DIR=/video -v "$VIDEO_DIR:/video" --shm-size=256m "$IMAGE" >/dev/null
wait_for 90 "a clip from the supervisor's container in $VIDEO_DIR" has_clips 1
log "supervisor container: first clip after $((SECONDS - t0)) s"
stop_container "$name" 30
check_clips
log "supervisor container: run took $((SECONDS - t0)) s"

# 4. The three stages as compose describes them.
video_dir video-stages
mkdir -p "$WORK/compose"
cp "$TOP/compose.yaml" "$WORK/.env" "$WORK/compose/"
VIDEO_HOST_DIR=$VIDEO_DIR docker-compose -f "$WORK/compose/compose.yaml" config \
    >"$WORK/compose/config.yaml" 2>"$WORK/compose/config.err" ||
    fail "docker-compose config: $(cat "$WORK/compose/config.err")"
C2P=$TOP/tests/e2e/compose-to-podman
# compose's `rings` volume, mounted here as its local driver would mount it;
# every stage mounts this folder at /dev/shm.
"$C2P" "$WORK/compose/config.yaml" mount rings >"$WORK/compose/rings.mount" ||
    fail "compose's rings volume: see above"
mapfile -t mnt <"$WORK/compose/rings.mount"
rings=$WORK/rings
mkdir -p "$rings"
mount -t "${mnt[0]}" -o "${mnt[2]}" "${mnt[1]}" "$rings"
MOUNTS+=("$rings")
log "rings: $(findmnt -n -o FSTYPE,OPTIONS "$rings")"

# start_stage STAGE: its container, from compose's service of that name.
start_stage() {
    local n=$PREFIX-$1
    "$C2P" "$WORK/compose/config.yaml" run "$1" --image "$IMAGE" --name "$n" \
        --volume-dir "rings=$rings" >"$WORK/compose/$1.args" || fail "compose service $1: see above"
    # compose's default uid:gid (CAMWATCH_UID, CAMWATCH_GID) is the image's.
    grep -qxF -- "--user=$uid:$gid" "$WORK/compose/$1.args" ||
        fail "compose runs $1 as $(grep -e '^--user=' "$WORK/compose/$1.args" || echo 'the image user'), want --user=$uid:$gid"
    mapfile -t args <"$WORK/compose/$1.args"
    podman rm -f -t 0 "$n" >/dev/null 2>&1 || true
    CONTAINERS+=("$n")
    "${PODMAN[@]}" run -d "${LIMITS[@]}" "${args[@]}" >/dev/null
    log "started $1: podman run $(grep -v '^--env=' "$WORK/compose/$1.args" | tr '\n' ' ')"
}

t0=$SECONDS
ring_files() { [ "$(find "$rings" -name "camwatch.$CAMERA_NAME.*" | wc -l)" = 3 ]; }
start_stage record
wait_for 20 "record to create the rings" ring_files
start_stage capture
capture_connected() { podman logs "$PREFIX-capture" 2>&1 | grep -q 'connected to'; }
wait_for 30 "capture to connect" capture_connected
start_stage detect
wait_for 90 "a clip from the three stages in $VIDEO_DIR" has_clips 1
log "stage containers: first clip after $((SECONDS - t0)) s"
for f in "$rings"/camwatch."$CAMERA_NAME".*; do
    [ "$(stat -c '%u %a' "$f")" = "$uid 600" ] || fail "ring $f is $(stat -c 'uid %u mode %a' "$f"), want uid $uid mode 600"
done

# capture restarted alone (as docker restarts it after a camera loss) finds
# the same rings: detect and record, which kept running, record new motion.
# It must be a clip that began after the old capture had stopped (when
# `podman restart` returns): the clip in progress at the restart, and one
# cut from it at MAX_CLIP_SECONDS meanwhile, are delivered anyway.
podman restart -t 10 "$PREFIX-capture" >/dev/null
restart_ns=$(date +%s%N)
clip_after_restart() {
    /usr/bin/python3 - "$restart_ns" $(clips) <<'EOF'
import datetime, json, sys
after = int(sys.argv[1]) / 1e9
for clip in sys.argv[2:]:
    with open(clip[:-4] + ".json") as f:
        start = datetime.datetime.fromisoformat(json.load(f)["motion_start"])
    if start.timestamp() > after:
        sys.exit(0)
sys.exit(1)
EOF
}
wait_for 90 "a clip of motion after capture's restart" clip_after_restart
log "stage containers: a clip of motion after capture's restart"

# Stopped in compose's order: capture, then record delivers its clip, detect.
stop_container "$PREFIX-capture" 10
stop_container "$PREFIX-record" 30
stop_container "$PREFIX-detect" 10
check_clips
log "stage containers: run took $((SECONDS - t0)) s; ok"
