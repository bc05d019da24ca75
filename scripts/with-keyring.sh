#!/usr/bin/env bash
# Runs a command against a real, unlocked Secret Service: a private D-Bus
# session with gnome-keyring's secrets component, in a throwaway home.
# Usage: scripts/with-keyring.sh COMMAND [ARG...]
set -euo pipefail

if [[ -z "${SG_KEYRING_INNER:-}" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/data" "$tmp/runtime" "$tmp/config"
  chmod 700 "$tmp/runtime"
  SG_KEYRING_INNER=1 XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime" \
    XDG_CONFIG_HOME="$tmp/config" \
    dbus-run-session -- "$0" "$@"
  exit $?
fi

# Inside the private bus: start the daemon unlocked with a throwaway password,
# which creates the "login" collection go-keyring uses as "default". It runs
# in the foreground as our child so we can stop exactly it afterwards.
printf 'sessionguard-test\n' | gnome-keyring-daemon --foreground --unlock --components=secrets >"$XDG_RUNTIME_DIR/gkd.env" 2>"$XDG_RUNTIME_DIR/gkd.log" &
gkd=$!
trap 'kill $gkd 2>/dev/null; wait $gkd 2>/dev/null || true' EXIT

for _ in $(seq 1 50); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ -z "${ready:-}" ]]; then
  echo "with-keyring.sh: the Secret Service did not come up" >&2
  exit 1
fi
export SESSIONGUARD_KEYRING_TEST=1
status=0
"$@" || status=$?
exit $status
