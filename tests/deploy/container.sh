#!/usr/bin/env bash
# Runs a command the way Docker runs the tailmcp service of docker-compose.yml,
# for tests/all/compose.rs on a machine without Docker. Run it as root inside
# `unshare --net --mount --fork` (network_mode: none: a network namespace with
# nothing but a loopback that is down).
#
#   container.sh ROOT BINARY UID:GID READ_ONLY DROP_ALL_CAPS NO_NEW_PRIVS \
#       SOURCE:TARGET:rw|ro ... -- COMMAND...
#
# ROOT (an empty directory) becomes the container's root: the host's system
# directories read-only (a stand-in for the image's libraries), BINARY at
# /usr/local/bin/tailmcp, nothing writable but the volumes, each SOURCE
# mounted at TARGET; with READ_ONLY=true the root itself is read-only
# (read_only: true). COMMAND then runs chrooted there as UID:GID, with every
# capability dropped (cap_drop: [ALL]) and no_new_privs set
# (no-new-privileges:true) when asked.
set -eu
root=$1 bin=$2 user=$3 read_only=$4 drop_all=$5 nnp=$6
shift 6
mount -t tmpfs -o mode=0755 tmpfs "$root"
for d in usr lib lib32 lib64 libx32 bin sbin etc; do
  if [ -L "/$d" ]; then
    ln -s "$(readlink "/$d")" "$root/$d"
  elif [ -d "/$d" ]; then
    mkdir "$root/$d"
    mount --rbind "/$d" "$root/$d"
    mount -o remount,bind,ro "$root/$d"
  fi
done
mkdir "$root/proc" "$root/dev"
mount --rbind /proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/usr/local/bin"
cp "$bin" "$root/usr/local/bin/tailmcp"
mount -o remount,ro "$root/usr/local/bin"
while [ "$1" != -- ]; do
  src=${1%%:*} rest=${1#*:}
  target=${rest%%:*} mode=${rest#*:}
  mkdir -p "$root$target"
  mount --bind "$src" "$root$target"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$target"; fi
  shift
done
shift
if [ "$read_only" = true ]; then mount -o remount,ro "$root"; fi
# Changing credentials clears the parent-death signal unshare --kill-child
# set; ask for it again so tailmcp dies with the test (no orphans).
set -- --reuid="${user%%:*}" --regid="${user#*:}" --clear-groups --pdeathsig KILL "$@"
if [ "$drop_all" = true ]; then set -- --inh-caps=-all --bounding-set=-all "$@"; fi
if [ "$nnp" = true ]; then set -- --no-new-privs "$@"; fi
exec chroot "$root" setpriv "$@"
