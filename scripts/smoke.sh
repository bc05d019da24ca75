#!/usr/bin/env bash
# Real-window smoke test of the Sessionguard app. Builds the app and runs it
# twice with --demo on a private Xvfb display: at phone size (440x760, the
# window's own size) and at desktop size (resized to 1280x800). Each time it
# drives the app from the keyboard the way a person would (Return signs in
# with the prefilled demo account, Ctrl+L opens Login activity, Tab and
# Return open a device, Escape goes back, Tab and Return open Settings and
# Security activity), screenshots every screen and checks that each
# screenshot shows something and that each key changed the screen. Then it
# quits the app (Ctrl+Q, else SIGTERM) and checks that it exits with status
# 0 within 5 s, and that its output has no panic, data race or Fyne
# threading error.
#
# Usage: scripts/smoke.sh OUTDIR
#   Writes OUTDIR/{phone,desktop}-{01-sign-in,02-home,03-login-activity,
#   04-device,05-security-activity,06-settings}.png: the app's window as
#   captured from the screen. On failure also OUTDIR/app-SIZE.log.
#
# Environment (all optional):
#   SMOKE_BINARY=path    test this binary instead of building the app
#   SMOKE_KEYRING=auto   on: run the app against a private, unlocked Secret
#                        Service (scripts/with-keyring.sh), as on a desktop;
#                        off: no D-Bus at all (the app's "no keyring" path);
#                        auto (default): on when gnome-keyring is installed
#   SMOKE_SIZES="phone desktop"  which runs to make
#   SMOKE_KEEP=1         keep the work directory (app log, full-screen captures)
#
# Needs Xvfb, xauth, xdotool and ImageMagick: scripts/deps.sh fyne window keyring.
# Runs unattended (CI=true, no stdin, as root or not); every wait is bounded.
set -euo pipefail

# Checks and limits.
MIN_STDDEV=0.02        # a screenshot's grey-level standard deviation must exceed this
CHANGE_MIN_PX=2000     # a key press must change at least this many pixels
STABLE_PX=300          # two captures 0.5 s apart differing by at most this: settled (a blinking cursor is fine)
FUZZ=2%                # colour distance below which compare counts pixels as equal
WINDOW_TIMEOUT_S=60    # for the window to appear
SETTLE_TIMEOUT_S=15    # for a screen to stop changing after its minimum wait
QUIT_TIMEOUT_S=5       # for the app to exit after Ctrl+Q, then after SIGTERM
BUILD_TIMEOUT_S=900    # a cold Fyne build takes ~5 min on 2 cores

die() { echo "smoke: FAIL: $*" >&2; exit 1; }
say() { printf 'smoke: [%5ss] %s\n' "$(elapsed)" "$*"; }
now_ms() { date +%s%3N; }
start_ms=$(now_ms)
elapsed() { local ms=$(($(now_ms) - start_ms)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

if [[ $# -ne 1 || $1 == -* ]]; then
  echo "usage: scripts/smoke.sh OUTDIR   (env: SMOKE_BINARY, SMOKE_KEYRING=auto|on|off, SMOKE_SIZES, SMOKE_KEEP=1)" >&2
  exit 2
fi
missing=()
for tool in Xvfb xauth xdotool import compare convert setsid timeout od pgrep; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "smoke: missing ${missing[*]}: run scripts/deps.sh fyne window keyring" >&2
  exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
binary=${SMOKE_BINARY:-}
if [[ -n $binary ]]; then
  [[ -x $binary ]] || { echo "smoke: SMOKE_BINARY=$binary is not an executable" >&2; exit 2; }
  binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
fi
cd "$repo"
shots=(01-sign-in 02-home 03-login-activity 04-device 05-security-activity 06-settings)
sizes=${SMOKE_SIZES:-phone desktop}
for size in $sizes; do
  [[ $size == phone || $size == desktop ]] || { echo "smoke: SMOKE_SIZES takes phone and desktop, not $size" >&2; exit 2; }
  for f in "${shots[@]}"; do rm -f "$out/$size-$f.png"; done
  rm -f "$out/app-$size.log"
done
# The screenshots before there were two sizes.
rm -f "$out/01-sign-in.png" "$out/02-home.png" "$out/03-login-activity.png" "$out/app.log"

work=$(mktemp -d "${TMPDIR:-/tmp}/sessionguard-smoke.XXXXXX")
xvfb_pid="" app_launcher="" app_pid="" win_px=0

# shellcheck source=scripts/xvfb.sh
source "$(dirname "${BASH_SOURCE[0]}")/xvfb.sh" # alive, start_xvfb

cleanup() {
  local rc=$?
  set +e
  if [[ -n $app_launcher ]]; then
    # Stop the app itself first so a wrapper (with-keyring.sh) can tidy up
    # after it, then end whatever is left of its process group (setsid).
    [[ -n $app_pid ]] || app_pid=$(pgrep -g "$app_launcher" -x "$(basename "$bin" | cut -c1-15)" | head -n 1)
    kill -TERM "${app_pid:-$app_launcher}" 2>/dev/null
    for _ in $(seq 1 50); do alive "$app_launcher" || break; sleep 0.1; done
    kill -KILL -- "-$app_launcher" 2>/dev/null
    wait "$app_launcher" 2>/dev/null
  fi
  if [[ -n $xvfb_pid ]]; then
    kill -TERM "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  if ((rc != 0)) && [[ -n ${run:-} && -s $work/app-$run.log ]]; then
    cp "$work/app-$run.log" "$out/app-$run.log"
    echo "smoke: last lines of the app's output (all of it: $out/app-$run.log):" >&2
    tail -n 40 "$work/app-$run.log" | sed 's/^/  | /' >&2
  fi
  if [[ ${SMOKE_KEEP:-} == 1 ]]; then
    echo "smoke: work directory kept: $work" >&2
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
  say "using SMOKE_BINARY=$bin"
else
  mkdir -p "$work/bin"
  bin=$work/bin/sessionguard
  say "building the app (go build -o $bin .)"
  timeout "$BUILD_TIMEOUT_S" go build -o "$bin" . || die "go build failed (or took over ${BUILD_TIMEOUT_S}s)"
  # A plain `go build` binary reads FyneApp.toml (ID, icon, fyneDo migration)
  # from its own directory, or from the working directory when it lives in the
  # temporary directory: provide both, as `go run .` would see it.
  cp FyneApp.toml "$work/bin/"
  say "built"
fi

# --- display -----------------------------------------------------------------
start_xvfb
say "Xvfb running on $DISPLAY (1280x800x24, no TCP, cookie auth)"

# --- the app -----------------------------------------------------------------
app_env=(LANG=en_US.UTF-8 LIBGL_ALWAYS_SOFTWARE=1 DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY")
keyring=${SMOKE_KEYRING:-auto}
if [[ $keyring == auto ]]; then
  keyring=off
  if command -v dbus-run-session >/dev/null && command -v dbus-send >/dev/null &&
    command -v gnome-keyring-daemon >/dev/null; then
    keyring=on
  fi
fi
case $keyring in
  on|off) ;;
  *) echo "smoke: SMOKE_KEYRING must be auto, on or off" >&2; exit 2 ;;
esac

app_running() {
  alive "${app_pid:-$app_launcher}" || die "the app exited unexpectedly"
}

# --- screens -----------------------------------------------------------------
ae() { # A B: how many pixels differ (beyond FUZZ)
  local res rc=0
  res=$(compare -metric AE -fuzz "$FUZZ" "$1" "$2" null: 2>&1) || rc=$?
  ((rc <= 1)) || die "compare $1 $2: $res"
  awk -v v="${res%% *}" 'BEGIN { printf "%d", v }'
}

grab() { # FILE: the whole screen
  timeout 20 import -window root "$1" || die "import -window root failed"
}

# settle NAME MIN_WAIT: wait MIN_WAIT seconds, then until two captures 0.5 s
# apart agree; leaves the screen in $work/NAME.root.png.
settle() {
  local name=$run-$1 a b n until
  a=$work/$name.root.png b=$work/$name.next.png
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
    if (($(now_ms) > until)); then
      say "note: $name was still changing ($n px in 0.5 s) after ${SETTLE_TIMEOUT_S}s; using the last capture"
      break
    fi
  done
  app_running
}

# shot NAME FILE: crop the settled screen to the app window into
# OUTDIR/RUN-FILE and check it is not blank.
shot() {
  local root=$work/$run-$1.root.png file=$out/$run-$2 geo X=0 Y=0 WIDTH=1280 HEIGHT=800 sd
  if geo=$(xdotool getwindowgeometry --shell "$W" 2>/dev/null); then
    X=$(sed -n 's/^X=//p' <<<"$geo"); Y=$(sed -n 's/^Y=//p' <<<"$geo")
    WIDTH=$(sed -n 's/^WIDTH=//p' <<<"$geo"); HEIGHT=$(sed -n 's/^HEIGHT=//p' <<<"$geo")
  fi
  convert "$root" -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$file"
  sd=$(convert "$file" -colorspace gray -format '%[fx:standard_deviation]' info:)
  awk -v s="$sd" -v m="$MIN_STDDEV" 'BEGIN { exit !(s > m) }' ||
    die "$run-$2 looks blank: grey standard deviation $sd <= $MIN_STDDEV"
  win_px=$((WIDTH * HEIGHT))
  say "ok  $run-$2: window ${WIDTH}x${HEIGHT}+${X}+${Y}, grey standard deviation $sd > $MIN_STDDEV"
}

# changed WHAT A B: at least CHANGE_MIN_PX pixels differ between screens A and B.
changed() {
  local n
  n=$(ae "$work/$run-$2.root.png" "$work/$run-$3.root.png")
  ((n >= CHANGE_MIN_PX)) || die "$1 did not change the screen: $n px differ between $2 and $3 (need >= $CHANGE_MIN_PX)"
  say "ok  $1 changed the screen: $n px differ between $2 and $3 (>= $CHANGE_MIN_PX)"
}

press() { # KEY...: type them into the app window, as a keyboard would (XTEST)
  timeout 5 xdotool windowfocus --sync "$W" >/dev/null 2>&1 || true
  local k
  for k in "$@"; do
    xdotool key --clearmodifiers "$k"
    sleep 0.15
  done
  say "pressed $*"
}

wait_exit() { # SECONDS: wait for the app process to end
  local until=$(($(now_ms) + $1 * 1000))
  while alive "$app_pid"; do
    (($(now_ms) < until)) || return 1
    sleep 0.1
  done
}

# run_app SIZE: one run of the app at SIZE (phone: the window's own
# 440x760; desktop: resized to fill the 1280x800 screen), through every
# screen, then quit.
run_app() {
  run=$1
  local home=$work/$run wrapper keyring_note
  mkdir -p "$home"/{home,cache,config,share,data}
  case $keyring in
    on) wrapper=("$repo/scripts/with-keyring.sh")
        keyring_note="a private D-Bus session with an unlocked gnome-keyring" ;;
    off) mkdir -m 700 "$home/runtime"
         # An unusable bus address: no keyring, and nothing may spawn a bus daemon.
         wrapper=(env DBUS_SESSION_BUS_ADDRESS=disabled: XDG_RUNTIME_DIR="$home/runtime")
         keyring_note="no D-Bus, so no keyring" ;;
  esac
  say "[$run] starting: $(basename "$bin") --demo --data-dir <temp> ($keyring_note)"
  app_pid=""
  setsid "${wrapper[@]}" env -u LC_ALL -u LC_MESSAGES "${app_env[@]}" HOME="$home/home" XDG_CACHE_HOME="$home/cache" \
    XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/share" \
    "$bin" --demo --data-dir "$home/data" </dev/null >"$work/app-$run.log" 2>&1 &
  app_launcher=$!

  local deadline=$(($(now_ms) + WINDOW_TIMEOUT_S * 1000))
  W=""
  while [[ -z $W ]]; do
    app_running
    (($(now_ms) < deadline)) || die "no visible window named \"Sessionguard\" within ${WINDOW_TIMEOUT_S}s"
    W=$(xdotool search --onlyvisible --name '^Sessionguard$' 2>/dev/null | head -n 1) || true
    [[ -n $W ]] || sleep 0.2
  done
  app_pid=$(xdotool getwindowpid "$W" 2>/dev/null) || app_pid=$app_launcher
  say "[$run] window $W is up (app pid $app_pid)"
  if [[ $run == desktop ]]; then
    # The app may still be setting up its first frame, which can undo an
    # early resize: resize until the window says 1280x800 (bounded).
    local tries=0 geo=""
    while :; do
      xdotool windowmove --sync "$W" 0 0 >/dev/null 2>&1 || xdotool windowmove "$W" 0 0
      xdotool windowsize --sync "$W" 1280 800 >/dev/null 2>&1 || xdotool windowsize "$W" 1280 800
      sleep 0.5
      geo=$(xdotool getwindowgeometry "$W" 2>/dev/null | sed -n 's/.*Geometry: //p')
      [[ $geo == 1280x800 ]] && break
      tries=$((tries + 1))
      ((tries < 10)) || die "the window stays ${geo:-unknown} after 10 resizes to 1280x800"
      say "note: the window is ${geo:-unknown} after a resize to 1280x800; trying again"
    done
    say "[$run] window resized to 1280x800"
  fi
  # Nothing manages windows here: give the app the keyboard focus, as
  # clicking it would, and park the pointer where it hovers over nothing.
  timeout 5 xdotool windowfocus --sync "$W" >/dev/null 2>&1 || say "note: could not confirm keyboard focus"
  xdotool mousemove 1279 799

  settle 01 1.5
  shot 01 01-sign-in.png

  press Return
  settle 02 2.5
  changed "Return (sign in)" 01 02
  shot 02 02-home.png

  press ctrl+l
  settle 03 2
  changed "Ctrl+L (Login activity)" 02 03
  shot 03 03-login-activity.png
  local n13
  n13=$(ae "$work/$run-01.root.png" "$work/$run-03.root.png")
  ((n13 >= CHANGE_MIN_PX)) || die "Login activity looks like the sign-in screen: $n13 px differ"

  # Tab: back, refresh, this device's row, the next device's row; Return
  # shows that device (on its page, or beside the list on a desktop).
  press Tab Tab Tab Tab Return
  settle 04 1.5
  changed "Tab, Return (a device)" 03 04
  shot 04 04-device.png

  press Escape
  settle 04b 1.5
  if [[ $run == phone ]]; then
    changed "Escape (back to Login activity)" 04 04b
    press Escape
    settle 04c 1.5
    changed "Escape (back home)" 04b 04c
  fi
  local n24
  n24=$(ae "$work/$run-02.root.png" "$work/$run-$([[ $run == phone ]] && echo 04c || echo 04b).root.png")
  if ((n24 * 20 <= win_px)); then
    say "ok  Escape returned to home ($n24 px differ from 02-home)"
  else
    say "note: after Escape the screen is not home: $n24 of $win_px window px differ from 02-home"
  fi

  # Home: Tab reaches the menu button first; Return opens Settings.
  press Tab Return
  settle 06 1.5
  changed "Tab, Return (Settings)" 02 06
  shot 06 06-settings.png

  # Settings: back, Login activity, Security activity.
  press Tab Tab Tab Return
  settle 05 2
  changed "Tab, Return (Security activity)" 06 05
  shot 05 05-security-activity.png

  press Escape
  settle 05b 1.5
  changed "Escape (back to Settings)" 05 05b

  local quit_from how quit_ms status=0
  quit_from=$(now_ms)
  press ctrl+q
  if wait_exit "$QUIT_TIMEOUT_S"; then
    how="Ctrl+Q"
  else
    say "the app is still running ${QUIT_TIMEOUT_S}s after Ctrl+Q: sending SIGTERM"
    quit_from=$(now_ms)
    kill -TERM "$app_pid" 2>/dev/null || true
    wait_exit "$QUIT_TIMEOUT_S" || die "the app did not exit within ${QUIT_TIMEOUT_S}s of SIGTERM"
    how="SIGTERM"
  fi
  quit_ms=$(($(now_ms) - quit_from))
  # The launcher (setsid, and with-keyring.sh when used) ends with the app.
  for _ in $(seq 1 50); do alive "$app_launcher" || break; sleep 0.1; done
  wait "$app_launcher" || status=$?
  app_launcher=""
  ((status == 0)) || die "the app exited with status $status after $how"
  say "ok  [$run] the app exited with status 0, $((quit_ms / 1000)).$((quit_ms % 1000 / 100))s after $how (limit ${QUIT_TIMEOUT_S}s)"

  if grep -E -n 'panic:|fatal error:|WARNING: DATA RACE|Error in Fyne call thread' "$work/app-$run.log" >"$work/bad.txt"; then
    die "the app's output reports a crash, race or Fyne threading error: $(head -n 5 "$work/bad.txt")"
  fi
  local fyne_errors
  fyne_errors=$(grep -c 'Fyne error' "$work/app-$run.log" || true)
  if ((fyne_errors > 0)); then
    say "note: $fyne_errors \"Fyne error\" line(s) in the app's output, e.g.:"
    grep -m 3 -A 1 'Fyne error' "$work/app-$run.log" | sed 's/^/  | /'
  fi
  say "ok  [$run] no panic, race or threading error in the app's output"
  run=""
}

for size in $sizes; do
  run_app "$size"
done
say "PASS: screenshots in $out"
