# Shared by scripts/smoke.sh and scripts/idle.sh (sourced, not run): a
# private Xvfb display for the real app.

# alive PID: the process runs and is not a zombie.
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# start_xvfb: starts Xvfb (1280x800x24, no TCP, cookie auth in
# $work/Xauthority) on the first free display from :99 to :199, waits until
# it answers, and exports DISPLAY and XAUTHORITY; xvfb_pid is its PID.
# Needs $work and die.
start_xvfb() {
  export XAUTHORITY=$work/Xauthority
  : >"$XAUTHORITY"
  local cookie d
  cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  for d in $(seq 99 199); do
    [[ -e /tmp/.X$d-lock || -e /tmp/.X11-unix/X$d ]] && continue
    xauth -q -f "$XAUTHORITY" add ":$d" . "$cookie"
    Xvfb ":$d" -screen 0 1280x800x24 -nolisten tcp -auth "$XAUTHORITY" </dev/null >"$work/xvfb.log" 2>&1 &
    xvfb_pid=$!
    for _ in $(seq 1 100); do
      if DISPLAY=:$d xdotool getdisplaygeometry >/dev/null 2>&1; then
        export DISPLAY=:$d
        return 0
      fi
      alive "$xvfb_pid" || break
      sleep 0.1
    done
    kill "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
    xvfb_pid=""
  done
  die "could not start Xvfb on any display :99-:199 ($(tail -n 3 "$work/xvfb.log" 2>/dev/null))"
}
