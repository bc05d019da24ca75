#!/usr/bin/env bash
# Idle check of the Sessionguard app: the real app in a real window on a
# private Xvfb display (as scripts/smoke.sh runs it), signed in to the
# --demo account of its embedded server, left alone. Once the screen has
# settled it samples the app process's own CPU time (utime+stime of
# /proc/PID/stat, and exactly from /proc/PID/task/*/schedstat: see
# "sampling" below) and its context switches (voluntary and nonvoluntary,
# summed over /proc/PID/task/*/status) over SIDLE_SECONDS idle on home,
# then over SIDLE_SECONDS on Login activity (Ctrl+L), and reports each as
# % of one core and wake-ups (context switches) per second.
#
# Fyne's floor. Fyne's desktop driver polls for window events 60 times a
# second whatever the app does (its GLFW loop's ticker): that costs some
# CPU and wake-ups the app cannot remove. To tell it apart, a bare Fyne
# window (one label, built from this module's Fyne) stays open behind the
# app's and is measured the same way over the same seconds. The check:
# each sample of the app may exceed that floor by less than SIDLE_MAX_CPU
# % of one core (issue 19: 0.5 %); SIDLE_FLOOR=0 checks the app's own
# figure against the limit instead. A leaked animation costs 15-20 % of a
# core here.
#
# Only each process's own CPU time counts, and the floor is measured at
# the same time as the app, under the same load, so other work on a
# shared CI machine moves the difference little.
#
# Usage: scripts/idle.sh [OUTDIR]
#   Writes OUTDIR/idle.txt (default build/idle): the figures, one line
#   each. On failure also OUTDIR/app.log, the app's output.
#
# Environment (all optional):
#   SIDLE_SECONDS=30     length of each sample (home, Login activity)
#   SIDLE_MAX_CPU=0.5    the limit, in % of one core, for each sample (above the floor)
#   SIDLE_FLOOR=1        1: measure Fyne's floor and check the app's CPU above it;
#                        0: no floor, check the app's own CPU
#   SIDLE_SETTLE=3       seconds to wait after a screen settled, before sampling
#   SIDLE_BINARY=path    measure this binary instead of building the app
#   SIDLE_KEYRING=auto   on: a private, unlocked Secret Service
#                        (scripts/with-keyring.sh); off: no D-Bus at all;
#                        auto (default): on when gnome-keyring is installed
#   SIDLE_SIZE=phone     phone (the window's own 440x760) or desktop (1280x800)
#   SIDLE_KEEP=1         keep the work directory
#
# Needs Xvfb, xauth, xdotool and ImageMagick: scripts/deps.sh fyne window keyring.
# Runs unattended (CI=true, no stdin, as root or not); every wait is bounded.
set -euo pipefail

SECONDS_EACH=${SIDLE_SECONDS:-30}
MAX_CPU=${SIDLE_MAX_CPU:-0.5}
FLOOR=${SIDLE_FLOOR:-1}
SETTLE_EXTRA=${SIDLE_SETTLE:-3}
SIZE=${SIDLE_SIZE:-phone}
STABLE_PX=300          # two captures 0.5 s apart differing by at most this: settled
CHANGE_MIN_PX=2000     # a key press must change at least this many pixels
FUZZ=2%
WINDOW_TIMEOUT_S=60
SETTLE_TIMEOUT_S=15
BUILD_TIMEOUT_S=900

die() { echo "idle: FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
start_ms=$(now_ms)
elapsed() { local ms=$(($(now_ms) - start_ms)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
say() { printf 'idle: [%5ss] %s\n' "$(elapsed)" "$*"; }

if [[ $# -gt 1 || ${1:-} == -* ]]; then
  echo "usage: scripts/idle.sh [OUTDIR]   (env: SIDLE_SECONDS, SIDLE_MAX_CPU, SIDLE_FLOOR, SIDLE_SETTLE, SIDLE_BINARY, SIDLE_KEYRING, SIDLE_SIZE, SIDLE_KEEP)" >&2
  exit 2
fi
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] && ((SECONDS_EACH >= 1)) || { echo "idle: SIDLE_SECONDS must be a whole number of seconds >= 1" >&2; exit 2; }
[[ $MAX_CPU =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "idle: SIDLE_MAX_CPU must be a number (% of one core)" >&2; exit 2; }
[[ $SIZE == phone || $SIZE == desktop ]] || { echo "idle: SIDLE_SIZE takes phone or desktop" >&2; exit 2; }
[[ $FLOOR == 0 || $FLOOR == 1 ]] || { echo "idle: SIDLE_FLOOR takes 0 or 1" >&2; exit 2; }
missing=()
for tool in Xvfb xauth xdotool import compare setsid timeout od getconf comm; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "idle: missing ${missing[*]}: run scripts/deps.sh fyne window keyring" >&2
  exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "${1:-$repo/build/idle}"
out=$(cd "${1:-$repo/build/idle}" && pwd)
rm -f "$out/idle.txt" "$out/app.log"
binary=${SIDLE_BINARY:-}
if [[ -n $binary ]]; then
  [[ -x $binary ]] || { echo "idle: SIDLE_BINARY=$binary is not an executable" >&2; exit 2; }
  binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
fi
cd "$repo"
hz=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/sessionguard-idle.XXXXXX")
xvfb_pid="" app_launcher="" app_pid="" floor_launcher="" floor_pid=""

# shellcheck source=scripts/xvfb.sh
source "$(dirname "${BASH_SOURCE[0]}")/xvfb.sh" # alive, start_xvfb

# stop_app: end the process started by launch (and its process group).
stop_app() {
  [[ -n $app_launcher ]] || return 0
  kill -TERM "${app_pid:-$app_launcher}" 2>/dev/null
  for _ in $(seq 1 50); do alive "$app_launcher" || break; sleep 0.1; done
  kill -KILL -- "-$app_launcher" 2>/dev/null
  wait "$app_launcher" 2>/dev/null
  app_launcher="" app_pid=""
}

cleanup() {
  local rc=$?
  set +e
  stop_app
  if [[ -n ${floor_launcher:-} ]]; then
    app_launcher=$floor_launcher app_pid=$floor_pid
    stop_app
  fi
  if [[ -n $xvfb_pid ]]; then
    kill -TERM "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  if ((rc != 0)) && [[ -s $work/app.log ]]; then
    cp "$work/app.log" "$out/app.log"
    echo "idle: last lines of the app's output (all of it: $out/app.log):" >&2
    tail -n 20 "$work/app.log" | sed 's/^/  | /' >&2
  fi
  if [[ ${SIDLE_KEEP:-} == 1 ]]; then
    echo "idle: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- build -------------------------------------------------------------------
if [[ -n $binary ]]; then
  bin=$binary
  say "using SIDLE_BINARY=$bin"
else
  mkdir -p "$work/bin"
  bin=$work/bin/sessionguard
  say "building the app (go build -o $bin .)"
  timeout "$BUILD_TIMEOUT_S" go build -o "$bin" . || die "go build failed (or took over ${BUILD_TIMEOUT_S}s)"
  cp FyneApp.toml "$work/bin/" # as smoke.sh: the metadata beside the binary
  say "built"
fi
if ((FLOOR)); then
  # The floor: a bare Fyne window, built with this module's Fyne.
  mkdir -p "$work/floor"
  cat >"$work/floor/main.go" <<'GO'
// Command floor is an idle Fyne window: what Fyne's driver costs by itself.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("sessionguard.idle.floor")
	w := a.NewWindow("Sessionguard floor")
	w.SetContent(widget.NewLabel("An idle Fyne window"))
	w.Resize(fyne.NewSize(440, 760))
	w.ShowAndRun()
}
GO
  say "building Fyne's floor (a bare window)"
  timeout "$BUILD_TIMEOUT_S" go build -o "$work/floor/floor" "$work/floor/main.go" || die "building the floor window failed"
fi

# --- display -----------------------------------------------------------------
start_xvfb
say "Xvfb running on $DISPLAY"

# --- screens (as smoke.sh) ---------------------------------------------------
app_running() { alive "${app_pid:-$app_launcher}" || die "the app exited unexpectedly"; }

ae() { # A B: how many pixels differ (beyond FUZZ)
  local res rc=0
  res=$(compare -metric AE -fuzz "$FUZZ" "$1" "$2" null: 2>&1) || rc=$?
  ((rc <= 1)) || die "compare $1 $2: $res"
  awk -v v="${res%% *}" 'BEGIN { printf "%d", v }'
}

grab() { timeout 20 import -window root "$1" || die "import -window root failed"; }

# settle NAME MIN_WAIT: wait MIN_WAIT seconds, then until two captures 0.5 s
# apart agree; leaves the screen in $work/NAME.png.
settle() {
  local a=$work/$1.png b=$work/$1.next.png n until
  sleep "$2"
  app_running
  grab "$a"
  until=$(($(now_ms) + SETTLE_TIMEOUT_S * 1000))
  while :; do
    sleep 0.5
    grab "$b"
    n=$(ae "$a" "$b")
    mv "$b" "$a"
    ((n <= STABLE_PX)) && break
    (($(now_ms) < until)) || { say "note: $1 still changing ($n px in 0.5 s) after ${SETTLE_TIMEOUT_S}s"; break; }
  done
  app_running
}

changed() { # WHAT A B
  local n
  n=$(ae "$work/$2.png" "$work/$3.png")
  ((n >= CHANGE_MIN_PX)) || die "$1 did not change the screen: $n px differ (need >= $CHANGE_MIN_PX)"
}

press() {
  timeout 5 xdotool windowfocus --sync "$W" >/dev/null 2>&1 || true
  local k
  for k in "$@"; do
    xdotool key --clearmodifiers "$k"
    sleep 0.15
  done
  say "pressed $*"
}

# --- sampling ----------------------------------------------------------------
# Two measures of a process's CPU time: utime+stime of /proc/PID/stat (the
# whole process, every thread, live or ended, in ticks of 1/CLK_TCK s),
# and the on-CPU nanoseconds of /proc/PID/task/*/schedstat (exact, but
# only for threads alive at both ends). The figure checked is the exact
# one when no thread ended during the sample and the two agree within a
# point, else the ticks.
#
# measure PID: one reading, "ticks ns switches voluntary threads tids,...".
measure() {
  local pid=$1 stat
  stat=$(<"/proc/$pid/stat") || die "cannot read /proc/$pid/stat"
  stat=${stat##*) } # past "pid (comm) ": comm may hold spaces
  printf '%s %s %s %s %s\n' \
    "$(awk '{ print $12 + $13 }' <<<"$stat")" \
    "$(awk '{ n += $1 } END { printf "%.0f", n }' /proc/"$pid"/task/*/schedstat 2>/dev/null)" \
    "$(awk '/^voluntary_ctxt_switches:/ { v += $2 } /^nonvoluntary_ctxt_switches:/ { n += $2 }
      END { print v + n, v + 0 }' /proc/"$pid"/task/*/status 2>/dev/null)" \
    "$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")" \
    "$(cd "/proc/$pid/task" && ls | sort | paste -sd, -)"
}

# figures NAME A B MS: the line for readings A and B MS ms apart; sets
# pct (the CPU figure checked, % of one core).
figures() {
  local name=$1 ms=$4 c0 n0 s0 v0 c1 n1 s1 v1 th ids0 ids1 tick_pct how wps vps
  read -r c0 n0 s0 v0 _ ids0 <<<"$2"
  read -r c1 n1 s1 v1 th ids1 <<<"$3"
  tick_pct=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v ms="$ms" 'BEGIN { printf "%.2f", 100 * (c / hz) / (ms / 1000) }')
  pct=$(awk -v a="$n0" -v b="$n1" -v ms="$ms" 'BEGIN { printf "%.2f", 100 * ((b - a) / 1e9) / (ms / 1000) }')
  how="schedstat"
  if [[ -n $(comm -23 <(tr , '\n' <<<"$ids0") <(tr , '\n' <<<"$ids1")) ]]; then
    pct=$tick_pct how="ticks: a thread ended"
  elif awk -v p="$pct" -v t="$tick_pct" 'BEGIN { d = p - t; exit !(d > 1 || d < -1) }'; then
    pct=$tick_pct how="ticks: schedstat says $pct %"
  fi
  wps=$(awk -v s=$((s1 - s0)) -v ms="$ms" 'BEGIN { printf "%.0f", s / (ms / 1000) }')
  vps=$(awk -v s=$((v1 - v0)) -v ms="$ms" 'BEGIN { printf "%.0f", s / (ms / 1000) }')
  printf '%-22s CPU %5s %% of one core (%s; stat: %d ticks of 1/%d s = %s %%), %4s wake-ups/s (context switches; %s/s voluntary), %d threads' \
    "$name:" "$pct" "$how" $((c1 - c0)) "$hz" "$tick_pct" "$wps" "$vps" "$th"
}

results=()
over=()
# sample NAME: the app's CPU and wake-ups over SECONDS_EACH, idle, and
# (with the floor) the bare Fyne window's over the same seconds; checks the
# app's figure against the limit, above the floor's.
sample() {
  local name=$1 a0 a1 f0 f1 t0 t1 ms line app_pct floor_pct=0 above
  app_running
  [[ -z $floor_pid ]] || f0=$(measure "$floor_pid")
  a0=$(measure "$app_pid"); t0=$(now_ms)
  sleep "$SECONDS_EACH"
  app_running
  a1=$(measure "$app_pid"); t1=$(now_ms)
  [[ -z $floor_pid ]] || f1=$(measure "$floor_pid")
  ms=$((t1 - t0))
  line=$(figures "$name" "$a0" "$a1" "$ms")
  app_pct=$(sed -n 's/^[^:]*: *CPU *\([0-9.]*\) .*/\1/p' <<<"$line")
  results+=("$line")
  say "$line"
  above=$app_pct
  if [[ -n $floor_pid ]]; then
    line=$(figures "  Fyne's floor, same time" "$f0" "$f1" "$ms")
    floor_pct=$(sed -n 's/^[^:]*: *CPU *\([0-9.]*\) .*/\1/p' <<<"$line")
    results+=("$line")
    say "$line"
    above=$(awk -v p="$app_pct" -v f="$floor_pct" 'BEGIN { printf "%.2f", p - f }')
    line=$(printf '  %s: %s %% of one core above the floor (limit %s), over %d.%d s' "$name" "$above" "$MAX_CPU" $((ms / 1000)) $((ms % 1000 / 100)))
    results+=("$line")
    say "$line"
  fi
  awk -v p="$above" -v m="$MAX_CPU" 'BEGIN { exit !(p >= m) }' && over+=("$name $above %")
  return 0
}

# --- the app -----------------------------------------------------------------
keyring=${SIDLE_KEYRING:-auto}
if [[ $keyring == auto ]]; then
  keyring=off
  if command -v dbus-run-session >/dev/null && command -v dbus-send >/dev/null &&
    command -v gnome-keyring-daemon >/dev/null; then
    keyring=on
  fi
fi
case $keyring in
  on|off) ;;
  *) echo "idle: SIDLE_KEYRING must be auto, on or off" >&2; exit 2 ;;
esac

# launch NAME TITLE COMMAND...: start COMMAND (in its own process group, its
# own home, the keyring as chosen) and wait for its window TITLE; sets W
# and app_pid.
launch() {
  local name=$1 title=$2 home=$work/$1 wrapper deadline
  shift 2
  mkdir -p "$home"/{home,cache,config,share,data}
  case $keyring in
    on) wrapper=("$repo/scripts/with-keyring.sh") ;;
    off) mkdir -m 700 "$home/runtime"
         wrapper=(env DBUS_SESSION_BUS_ADDRESS=disabled: XDG_RUNTIME_DIR="$home/runtime") ;;
  esac
  say "starting $name: $(basename "$1") ${*:2} (keyring $keyring, $SIZE size)"
  setsid "${wrapper[@]}" env -u LC_ALL -u LC_MESSAGES LANG=en_US.UTF-8 LIBGL_ALWAYS_SOFTWARE=1 \
    DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" HOME="$home/home" XDG_CACHE_HOME="$home/cache" \
    XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/share" \
    "$@" </dev/null >"$work/app.log" 2>&1 &
  app_launcher=$! app_pid=""
  deadline=$(($(now_ms) + WINDOW_TIMEOUT_S * 1000))
  W=""
  while [[ -z $W ]]; do
    app_running
    (($(now_ms) < deadline)) || die "no visible window named \"$title\" within ${WINDOW_TIMEOUT_S}s"
    W=$(xdotool search --onlyvisible --name "^$title\$" 2>/dev/null | head -n 1) || true
    [[ -n $W ]] || sleep 0.2
  done
  app_pid=$(xdotool getwindowpid "$W" 2>/dev/null) || die "no pid for the window of $name"
  say "window $W is up ($name pid $app_pid)"
  place_window
}

# place_window: the window's size, the keyboard focus, the pointer away.
place_window() {
  if [[ $SIZE == desktop ]]; then
    for _ in $(seq 1 10); do
      xdotool windowmove --sync "$W" 0 0 >/dev/null 2>&1 || true
      xdotool windowsize --sync "$W" 1280 800 >/dev/null 2>&1 || true
      sleep 0.5
      [[ $(xdotool getwindowgeometry "$W" 2>/dev/null | sed -n 's/.*Geometry: //p') == 1280x800 ]] && break
    done
  fi
  timeout 5 xdotool windowfocus --sync "$W" >/dev/null 2>&1 || say "note: could not confirm keyboard focus"
  xdotool mousemove 1279 799 # the pointer hovers over nothing
}

floor_pid=""
if ((FLOOR)); then
  # The floor window stays open, behind the app's, and is measured at the
  # same time as the app, under the same load.
  launch floor "Sessionguard floor" "$work/floor/floor"
  floor_pid=$app_pid floor_launcher=$app_launcher
  app_pid="" app_launcher=""
fi

launch app Sessionguard "$bin" --demo --data-dir "$work/app/data"
settle sign-in 1.5
press Return # the prefilled demo account
settle home 2.5
changed "Return (sign in)" sign-in home
sleep "$SETTLE_EXTRA"
sample "home"

press ctrl+l
settle login-activity 2
changed "Ctrl+L (Login activity)" home login-activity
sleep "$SETTLE_EXTRA"
sample "Login activity"

if grep -E -n 'panic:|fatal error:|WARNING: DATA RACE|Error in Fyne call thread' "$work/app.log" >"$work/bad.txt"; then
  die "the app's output reports a crash, race or Fyne threading error: $(head -n 3 "$work/bad.txt")"
fi
{
  printf 'scripts/idle.sh: %s s each, signed in to --demo, %s size, limit %s %% of one core%s\n' "$SECONDS_EACH" "$SIZE" "$MAX_CPU" \
    "$( ((FLOOR)) && echo ' above the floor (a bare Fyne window)')"
  printf '%s\n' "${results[@]}"
} >"$out/idle.txt"
what="idle CPU" && ((FLOOR)) && what="idle CPU above Fyne's floor"
if ((${#over[@]})); then
  die "$what at or above ${MAX_CPU} % of one core: ${over[*]} (figures in $out/idle.txt)"
fi
say "PASS: $what under ${MAX_CPU} % of one core on home and Login activity (figures in $out/idle.txt)"
