"""Backup, restore and SQL export/import of the KAMO Load Logger database: the command line.

backup.sh, restore.sh and migrate.sh call it; it can also be run directly:
`python scripts/dbtool.py backup|restore|export|import ...`. The work is done in the
dbtools package beside this file (its docstring says which database the commands use).

Every command prints what it found and what it did. Exit status: 0 done, 1 refused or failed
(nothing was changed unless the output says so), 2 wrong usage or configuration.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

# The repository (or /app in the images) for collector/ and shared/, and this folder for
# dbtools/, whether run from the host's venv or inside a container.
HERE = Path(__file__).resolve().parent
for folder in (HERE.parent, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from dbtools.backup import backup_command  # noqa: E402
from dbtools.errors import Failed, Refused  # noqa: E402
from dbtools.migrate_export import export_command  # noqa: E402
from dbtools.migrate_import import import_command  # noqa: E402
from dbtools.restore import restore_command  # noqa: E402

from shared.config import ConfigError  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dbtool.py", description="Backup, restore, export and import the database."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("backup", help="consistent, checked, compressed backup with rotation")
    p.add_argument("data_dir", nargs="?", help="data directory (overrides DATA_DIR)")
    p.set_defaults(run=lambda a: backup_command(a.data_dir))
    p = sub.add_parser("restore", help="restore a backup (.db.gz or .db) into the database")
    p.add_argument("file")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=lambda a: restore_command(a.file, a.yes))
    p = sub.add_parser("export", help="write a portable SQL dump to standard output")
    p.set_defaults(run=lambda a: export_command())
    p = sub.add_parser("import", help="load a dump from standard input into an empty database")
    p.add_argument("--force", action="store_true", help="replace a database that has data")
    p.set_defaults(run=lambda a: import_command(a.force))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"{args.command}: configuration error: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"{args.command}: refused: {exc}", file=sys.stderr)
        if args.command in ("restore", "import"):
            print(f"{args.command}: nothing was changed", file=sys.stderr)
        return 1
    except (Failed, OSError, sqlite3.Error) as exc:
        print(f"{args.command}: failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
