#!/usr/bin/env bash
# Every configuration variable x every kind of bad value: exit 78 and one
# line naming the variable, for the supervisor and for a stage, printed as a
# table. The variables are read from `camwatch --help` (the configuration
# table in common/config.c), so a row added there is tested here without
# a change; the cases follow from what --help says of it:
#   (required)         missing, empty, huge (and not an address, for the URL)
#   numeric default    empty (the default applies), words, a unit suffix,
#                      negative, huge, beyond a double
#   word default       empty (the default applies), an unknown value, huge
#   other              empty, huge (any text is accepted)
# A value that must be accepted is proven so by a later variable's huge
# value: the loader checks variables in table order and stops at the first
# problem, so the message must name that later one. The last variable's
# accepted values are proven by the program still running after 2 s.
source "$(dirname "$0")/lib.sh"

help=$("$BIN/camwatch" --help)
# The table's block: after "...does not set):", up to the first blank line.
mapfile -t rows < <(awk '/does not set\):$/ {on = 1; next} on && /^$/ {if (n) exit; next}
    on && /^  [A-Z][A-Z0-9_]+ / {n++; print}' <<<"$help")
[ ${#rows[@]} -ge 10 ] || fail "camwatch --help lists ${#rows[@]} variables: $help"
declare -a names kinds
for row in "${rows[@]}"; do
    name=$(awk '{print $1}' <<<"$row")
    def=$(sed -n 's/.*(default \([^)]*\))$/\1/p' <<<"$row")
    if [[ $row == *"(required)" ]]; then
        kind=required
        [[ $row == *"rtsp://"* ]] && kind=url
    elif [[ $def =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then
        kind=number
    elif [[ $def =~ ^[A-Za-z][A-Za-z0-9_-]*$ ]]; then
        kind=word
    else
        kind=text
    fi
    names+=("$name")
    kinds+=("$kind")
done
last=$((${#names[@]} - 1))
sentinel=${names[$last]}
huge=$(printf 'x%.0s' $(seq 5000))
base=(RTSP_URL=rtsp://127.0.0.1:1/cam "VIDEO_DIR=$WORK/video")
camera=cfgtable${CW_TEST_TAG:+-$CW_TEST_TAG}
export CAMERA_NAME=$camera # for lib.sh's clean-up of rings

# cases KIND: "case|value|expect" lines; expect is 78 (rejected) or ok.
cases() {
    case $1 in
    required) printf '%s\n' "missing|<unset>|78" "empty||78" "huge|$huge|78" ;;
    url) printf '%s\n' "missing|<unset>|78" "empty||78" "not an address|camera.local/stream|78" \
        "huge|rtsp://$huge|78" ;;
    number) printf '%s\n' "empty||ok" "words|ten|78" "unit suffix|5s|78" "negative|-1|78" \
        "huge|1e12|78" "beyond a double|1e999|78" ;;
    word) printf '%s\n' "empty||ok" "unknown value|NO_SUCH_VALUE;x|78" "huge|$huge|78" ;;
    text) printf '%s\n' "empty||ok" "huge|$huge|78" ;;
    esac
}

# run PROGRAM VAR VALUE [SENTINEL_VALUE]: sets rc and msg.
run() {
    local prog=$1 var=$2 value=$3 env=("${base[@]}" "CAMERA_NAME=$camera")
    local e filtered=()
    for e in "${env[@]}"; do [[ $e == "$var="* ]] || filtered+=("$e"); done
    [ "$value" = "<unset>" ] || filtered+=("$var=$value")
    [ $# -lt 4 ] || filtered+=("$sentinel=$4")
    rc=0
    (cd "$WORK" && env -i PATH="$PATH" "${filtered[@]}" timeout -s TERM 2 "$BIN/$prog" \
        >"$WORK/out.txt" 2>"$WORK/err.txt" </dev/null) || rc=$?
    msg=$(cat "$WORK/err.txt")
    rm -f /dev/shm/camwatch."$camera".*
}

bad=0 total=0
table=$(printf '%-16s %-24s %-16s %-22s %4s  %s' program variable case value exit "message ok")
for prog in camwatch camwatch-detect; do
    for i in "${!names[@]}"; do
        var=${names[$i]}
        while IFS='|' read -r what value expect; do
            total=$((total + 1))
            named=$var
            if [ "$expect" = ok ] && [ "$i" != "$last" ]; then
                run "$prog" "$var" "$value" "$huge"
                named=$sentinel # accepted: the loader went on to the sentinel
                want=78
            elif [ "$expect" = ok ]; then
                [ "$prog" = camwatch-detect ] || continue # still running: a stage suffices
                run "$prog" "$var" "$value"
                want=124
                named=
            else
                run "$prog" "$var" "$value"
                want=78
            fi
            ok=yes
            if [ -n "$named" ]; then
                [ "$(wc -l <"$WORK/err.txt")" = 1 ] && grep -q "$named" "$WORK/err.txt" || ok=no
            fi
            [ $rc = "$want" ] || ok=no
            shown=\"${value:0:19}\"
            [ ${#value} -le 19 ] || shown="\"${value:0:8}...\" (${#value})"
            [ "$expect" = ok ] && what="$what (accepted)"
            row=$(printf '%-16s %-24s %-16s %-22s %4s  %s' "$prog" "$var" "$what" "$shown" "$rc" "$ok")
            table+=$'\n'"$row"
            if [ $ok = no ]; then
                bad=$((bad + 1))
                table+=$'\n'"    want exit $want${named:+ and one line naming $named}; got: ${msg:0:300}"
            fi
        done < <(cases "${kinds[$i]}")
    done
done
echo "$table"
echo "(accepted): the value must be taken, so the message names $sentinel, given a huge"
echo "value after it; for $sentinel itself, the stage must still run after 2 s (exit 124)."
log "$total cases over ${#names[@]} variables (sentinel $sentinel), $bad wrong"
[ $bad = 0 ] || fail "$bad cases did not give exit 78 and one line naming the variable"
log ok
