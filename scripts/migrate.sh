#!/usr/bin/env bash
# Move the data between databases with a portable SQL dump.
#
#   scripts/migrate.sh export > dump.sql
#   scripts/migrate.sh import [--force] < dump.sql
#
# export writes the schema (with its version) and every row of the database named by
# DATABASE_URL (SQLite or PostgreSQL) to standard output, as one consistent snapshot; the
# collector may keep running. The dump is SQLite SQL: `sqlite3 new.db < dump.sql` loads it too.
# import reads a dump from standard input into the database named by DATABASE_URL: a SQLite
# file (created if missing) or PostgreSQL (tables created by the program, same schema version
# required). It refuses a database that already holds data unless --force is given (SQLite:
# the old database is saved first as BACKUP_DIR/<db>-pre-import-*.db.gz), and it refuses
# while the collector runs.
# Exit status: 0 done, 1 refused or failed, 2 bad usage.
set -euo pipefail
# shellcheck source=scripts/_dbtool.sh
source "$(dirname "${BASH_SOURCE[0]}")/_dbtool.sh"

usage() { echo "usage: $0 export > dump.sql | $0 import [--force] < dump.sql" >&2; exit 2; }
[ "$#" -ge 1 ] || usage
command=$1
shift
case "$command" in
  export) [ "$#" -eq 0 ] || usage ;;
  import) [ "$#" -eq 0 ] || { [ "$#" -eq 1 ] && [ "$1" = "--force" ]; } || usage ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) usage ;;
esac

run_dbtool "$command" "$@"
