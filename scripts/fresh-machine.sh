#!/usr/bin/env bash
# Fresh-machine check (issue 7): a minimal Debian bookworm root made with
# debootstrap, Go copied in, a clean clone of this repository, and then the
# README's commands run inside it as a newcomer would. See docs/FRESH-MACHINE.md.
#
# Usage (as root, on a Debian host):
#   scripts/fresh-machine.sh setup            debootstrap the root (if missing), copy Go in, clone
#   scripts/fresh-machine.sh run CMD...       run CMD in the clone inside the root (e.g. make test)
#   scripts/fresh-machine.sh check-run        make run (RUN_ARGS=--demo) under Xvfb: window, screenshot, Ctrl+Q
#   scripts/fresh-machine.sh shell            an interactive shell there
#   scripts/fresh-machine.sh umount           unmount what the others mounted
#   scripts/fresh-machine.sh destroy          unmount and delete the root
# Environment: SG_CHROOT (default /var/tmp/sg-chroot), SG_MIRROR (default: the
# host's Debian mirror), SG_REPO (what to clone, default: this repository),
# SG_REF (branch to clone, default main).
set -euo pipefail

root=${SG_CHROOT:-/var/tmp/sg-chroot}
repo=${SG_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
ref=${SG_REF:-main}
src=/root/sessionguard

[[ $(id -u) -eq 0 ]] || { echo "fresh-machine.sh: run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
case "$root" in /|/usr*|/etc*|/work*|"$repo"*) echo "fresh-machine.sh: refusing root $root" >&2; exit 2 ;; esac

mirror() {
  if [[ -n "${SG_MIRROR:-}" ]]; then echo "$SG_MIRROR"; return; fi
  local m
  m=$(grep -hsoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* |
    head -1 | awk '{print $2}')
  echo "${m:-http://deb.debian.org/debian}"
}

mounted() { findmnt -rn -o TARGET | grep -qE "^$root(/|$)"; }

mount_all() {
  for d in proc sys dev dev/pts; do
    mkdir -p "$root/$d"
    findmnt -rn "$root/$d" >/dev/null && continue
    case $d in
      proc) mount -t proc proc "$root/proc" ;;
      sys) mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys" ;;
      dev) mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev" ;;
      dev/pts) ;; # came with the recursive /dev bind
    esac
  done
  mkdir -p "$root/mnt/repo"
  findmnt -rn "$root/mnt/repo" >/dev/null || mount --bind -o ro "$repo" "$root/mnt/repo"
  mount -o remount,bind,ro "$root/mnt/repo"
}

umount_all() {
  # Deepest first; -l because /dev and /sys were bound recursively.
  findmnt -rn -o TARGET | grep -E "^$root/" | sort -r | while read -r m; do umount -l "$m" || true; done
}

# The environment a developer's shell would have: Go on PATH, the module
# proxy settings of this host (the only network may be the proxy), nothing else.
chroot_env() {
  local v
  echo "HOME=/root"
  echo "PATH=/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  echo "TERM=${TERM:-dumb}"
  for v in GOPROXY GOSUMDB GONOSUMDB GONOSUMCHECK GOPRIVATE GOFLAGS GOTOOLCHAIN; do
    [[ -n "$(go env $v 2>/dev/null)" ]] && echo "$v=$(go env $v)"
  done
  return 0
}

in_root() {
  local envs=()
  mapfile -t envs < <(chroot_env)
  chroot "$root" /usr/bin/env -i "${envs[@]}" /bin/bash -c "$1"
}

case "${1:-}" in
  setup)
    if [[ ! -x $root/bin/bash ]]; then
      command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap; }
      echo "fresh-machine.sh: debootstrap --variant=minbase bookworm $root $(mirror)"
      debootstrap --variant=minbase bookworm "$root" "$(mirror)"
    fi
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    if [[ ! -x $root/usr/local/go/bin/go ]]; then
      echo "fresh-machine.sh: copying $(go env GOROOT) ($(go version | awk '{print $3}')) to $root/usr/local/go"
      cp -a "$(go env GOROOT)" "$root/usr/local/go"
    fi
    mount_all
    # What the README asks of a new machine before its two commands.
    in_root 'command -v git >/dev/null && command -v make >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git make ca-certificates >/dev/null; }'
    # A new machine here trusts what this host trusts: this network reaches
    # the registries through a TLS proxy whose CA the host's bundle carries.
    # Copy the certificates the root's bundle lacks (none on an open network).
    tmp=$(mktemp -d)
    awk -v d="$tmp" '/BEGIN CERT/{n++} n{print > (d "/host-" n ".crt")}' /etc/ssl/certs/ca-certificates.crt
    for f in "$tmp"/host-*.crt; do
      grep -qF "$(sed -n 2p "$f")" "$root/etc/ssl/certs/ca-certificates.crt" || cp "$f" "$root/usr/local/share/ca-certificates/"
    done
    rm -rf "$tmp"
    in_root 'update-ca-certificates >/dev/null 2>&1; ls /usr/local/share/ca-certificates'
    in_root "rm -rf $src && git clone -q --branch $ref /mnt/repo $src && git -C $src log --oneline -1"
    ;;
  run)
    shift
    mount_all
    in_root "cd $src && $*"
    ;;
  check-run)
    # `make run` as a newcomer would, on a private Xvfb display (the
    # display, xdotool and ImageMagick are this check's, not the project's):
    # wait for the "Sessionguard" window, screenshot it, quit with Ctrl+Q.
    mount_all
    in_root 'for t in Xvfb xdotool import; do command -v $t >/dev/null || missing=1; done
      [ -z "${missing:-}" ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb xauth xdotool imagemagick >/dev/null; }'
    cat >"$root/root/check-run.sh" <<'EOF'
cd /root/sessionguard || exit 1
export DISPLAY=:77 LANG=en_US.UTF-8
Xvfb :77 -screen 0 800x900x24 -nolisten tcp </dev/null >/tmp/xvfb.log 2>&1 &
xvfb=$!
start=$SECONDS
setsid make run RUN_ARGS=--demo </dev/null >/tmp/make-run.log 2>&1 &
mk=$!
found=
while ((SECONDS - start < ${SG_RUN_TIMEOUT:-1800})); do
  w=$(xdotool search --onlyvisible --name '^Sessionguard$' 2>/dev/null | head -1)
  if [ -n "$w" ]; then found=$w; break; fi
  kill -0 $mk 2>/dev/null || break
  sleep 2
done
echo "check-run: window: ${found:-none} after $((SECONDS - start)) s"
status=1
if [ -n "$found" ]; then
  sleep 3
  import -window root /tmp/make-run.png && echo "check-run: screenshot /tmp/make-run.png"
  # No window manager: focus the window, point at it, type Ctrl+Q (XTEST).
  xdotool mousemove --window "$found" 100 100 2>/dev/null
  timeout 5 xdotool windowfocus --sync "$found" 2>/dev/null
  xdotool key ctrl+q
  for _ in $(seq 1 20); do kill -0 $mk 2>/dev/null || break; sleep 1; done
  if kill -0 $mk 2>/dev/null; then echo "check-run: still running after Ctrl+Q; stopping it"; kill -- -$mk; else status=0; fi
fi
wait $mk; echo "check-run: make run exited $?"
kill $xvfb 2>/dev/null
echo "--- make run output"; cat /tmp/make-run.log
exit $status
EOF
    in_root 'bash /root/check-run.sh'
    ;;
  shell)
    mount_all
    in_root "cd $src && exec bash -i"
    ;;
  umount)
    umount_all
    ;;
  destroy)
    umount_all
    if mounted; then echo "fresh-machine.sh: something is still mounted under $root; not deleting" >&2; exit 1; fi
    rm -rf --one-file-system "$root"
    ;;
  *)
    sed -n '2,15p' "$0" >&2
    exit 2
    ;;
esac
