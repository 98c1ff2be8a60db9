#!/usr/bin/env bash
# Restore a backup into the database, through SQLite's backup API.
#
#   scripts/restore.sh FILE [--yes]        (--yes may also come first)
#   docker compose stop collector
#   docker compose run --rm collector /app/scripts/restore.sh /data/backups/FILE
#   docker compose start collector
#
# FILE: what backup.sh writes (.db.gz) or a plain database file (its -wal beside it is used).
# Before anything changes: the file's integrity and schema version are checked, and the
# collector must be stopped (its lock in DATA_DIR is free and its heartbeat is not fresh).
# On a terminal it asks for confirmation; --yes skips the question; with no terminal and no
# --yes it refuses. The current database is saved first (BACKUP_DIR/<db>-pre-restore-*.db.gz).
# The database is found like backup.sh finds it (DATABASE_URL, else DATA_DIR/kamo_load.db).
# Exit status: 0 restored, 1 refused or failed (the output says whether anything changed),
# 2 bad usage.
set -euo pipefail
# shellcheck source=scripts/_dbtool.sh
source "$(dirname "${BASH_SOURCE[0]}")/_dbtool.sh"

usage() { echo "usage: $0 FILE [--yes]" >&2; exit 2; }
file=""
yes=()
for arg in "$@"; do
  case "$arg" in
    -y|--yes) yes=(--yes) ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "restore.sh: unknown option $arg" >&2; usage ;;
    *) [ -z "$file" ] || usage; file=$arg ;;
  esac
done
[ -n "$file" ] || usage

run_dbtool restore "${yes[@]}" -- "$file"
