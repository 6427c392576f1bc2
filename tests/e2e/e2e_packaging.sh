#!/usr/bin/env bash
# The ways camwatch is run, checked without a Docker engine or a running
# systemd: compose.yaml is valid and has one service per stage sharing the
# rings, and the systemd unit passes `systemd-analyze verify` and scores
# at most 2.0 on `systemd-analyze security` (lower is safer; issue 11).
source "$(dirname "$0")/lib.sh"

# compose: a sample .env, as users write it.
cp "$TOP/compose.yaml" "$TOP/Dockerfile" "$WORK/"
printf 'RTSP_URL=rtsp://admin:pw@192.0.2.10/stream1\nCAMERA_NAME=porch\n' >"$WORK/.env"
docker-compose -f "$WORK/compose.yaml" config >"$WORK/compose.out" 2>"$WORK/compose.err" ||
    fail "docker-compose config: $(cat "$WORK/compose.err")"
services=$(docker-compose -f "$WORK/compose.yaml" config --services | sort | tr '\n' ' ')
[ "$services" = "capture capture-sub detect http mqtt record " ] || fail "compose services are '$services'"
grep -q -- "--role=sub" "$WORK/compose.out" || fail "no service runs camwatch-capture --role=sub"
for s in capture detect record http mqtt; do
    grep -q "camwatch-$s" "$WORK/compose.out" || fail "no service runs camwatch-$s"
done
[ "$(grep -c 'target: /dev/shm' "$WORK/compose.out")" = 6 ] || fail "not every stage mounts the rings"
log "compose: services $services"

# systemd: the unit as installed, pointing at this build's supervisor.
sed "s|^ExecStart=.*camwatch|ExecStart=$BIN/camwatch|" "$TOP/scripts/camwatch.service" >"$WORK/camwatch.service"
grep -q "^ExecStart=$BIN/camwatch" "$WORK/camwatch.service" || fail "no ExecStart for camwatch in the unit"
systemd-analyze verify "$WORK/camwatch.service" >"$WORK/verify.out" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$WORK/verify.out")"
[ ! -s "$WORK/verify.out" ] || fail "systemd-analyze verify warns: $(cat "$WORK/verify.out")"
grep -q '^RestartPreventExitStatus=78' "$WORK/camwatch.service" || fail "the unit restarts after a configuration error"
score=$(systemd-analyze security --offline=true "$WORK/camwatch.service" 2>&1 |
    sed -n 's/.*Overall exposure level for camwatch.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure score"
python3 -c "import sys; sys.exit(0 if float('$score') <= 2.0 else 1)" || fail "exposure $score > 2.0"
log "systemd unit verifies; exposure $score; ok"
