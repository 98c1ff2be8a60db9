#!/usr/bin/env bash
# Online backup of the SQLite database: consistent copy (VACUUM INTO) while the collector
# writes, PRAGMA integrity_check on the copy, gzip, rotation.
#
#   scripts/backup.sh [DATA_DIR]
#   docker exec kamo-collector /app/scripts/backup.sh
#
# The database: DATABASE_URL (environment, then .env in the current directory); when it is set
# nowhere, DATA_DIR/kamo_load.db. A DATA_DIR given as the argument overrides DATA_DIR.
# Backups: BACKUP_DIR, default DATA_DIR/backups, named <db>-YYYYMMDDTHHMMSSZ.db.gz (UTC).
# Rotation keeps the newest backup of each of the last BACKUP_KEEP_DAILY days (7) and of each
# of the last BACKUP_KEEP_WEEKLY ISO weeks (4) that have one; safety copies made by restore
# and import (*-pre-restore-*, *-pre-import-*) are never deleted.
# Exit status: 0 written and checked, 1 failed, 2 bad usage or configuration.
set -euo pipefail
# shellcheck source=scripts/_dbtool.sh
source "$(dirname "${BASH_SOURCE[0]}")/_dbtool.sh"

case "${1:-}" in
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ "$#" -gt 1 ]; then
  echo "usage: $0 [DATA_DIR]" >&2
  exit 2
fi

run_dbtool backup "$@"
