#!/usr/bin/env bash
# Container entrypoint: match the runtime user to PUID/PGID, own the data directory, drop root.
#
# The image starts as root only for this script. It gives the `kamo` user the ids in
# PUID/PGID (default 1000:1000; Unraid uses 99:100, Synology often 1026:100), makes sure
# DATA_DIR (and BACKUP_DIR when set) exists and belongs to that user, then runs the
# command as that user through util-linux `setpriv`, with no way back to root.
# Started as non-root already (`docker run --user ...`), it changes nothing and runs the command.
set -euo pipefail

say() { echo "entrypoint: $*" >&2; }

if [ "$#" -eq 0 ]; then
  say "no command given"
  exit 2
fi

if [ "$(id -u)" != "0" ]; then
  exec "$@"
fi

puid=${PUID:-1000}
pgid=${PGID:-1000}
case "$puid$pgid" in
  *[!0-9]*)
    say "PUID and PGID must be numeric ids (got PUID=$puid PGID=$pgid)"
    exit 2
    ;;
esac

if [ "$puid" = "0" ]; then
  say "PUID=0: running as root, which is not recommended"
  exec "$@"
fi

# -o: the id may already belong to another account in the image (gid 100 is "users").
if [ "$(id -g kamo)" != "$pgid" ]; then
  groupmod -o -g "$pgid" kamo
fi
if [ "$(id -u kamo)" != "$puid" ]; then
  usermod -o -u "$puid" kamo
fi

data_dir=${DATA_DIR:-/data}
for dir in "$data_dir" ${BACKUP_DIR:+"$BACKUP_DIR"}; do
  mkdir -p "$dir"
  # Only what is not owned yet, so a restart does not rewrite every file's inode.
  if ! find "$dir" \( ! -user "$puid" -o ! -group "$pgid" \) -exec chown "$puid:$pgid" {} + 2>/dev/null; then
    say "could not hand $dir to $puid:$pgid (a network share with root squash?); the program may not be able to write there"
  fi
done

export HOME=/tmp
exec setpriv --reuid="$puid" --regid="$pgid" --clear-groups --no-new-privs "$@"
