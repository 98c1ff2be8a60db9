"""Backup, restore and SQL export/import of the KAMO Load Logger database.

`scripts/dbtool.py` is the command line (called by backup.sh, restore.sh, migrate.sh); the
modules here do the work, one concern each:

* locate: which database and data directory, found the way the collector and the API find them
* sqlite_files: installing SQLite files without disturbing a live reader
* checks: whether the collector runs, confirmation
* backup: backup.sh over collector.backup (VACUUM INTO, check, gzip, rotation: the code the
  collector's own backups run too); the safety copies restore and import make
* restore: unpacking a backup and putting it in place of the live database
* migrate_export, migrate_import: the portable SQL dump (SQLite or PostgreSQL)
* output, errors: what the commands print, and how they stop

Which database:

* DATA_DIR comes from the first argument of backup.sh when given, else from the environment,
  else from `.env` in the current directory, else `data`.
* The database is the file DATABASE_URL names (environment first, then `.env`); relative paths
  count from the current directory, as for the processes.
* When DATABASE_URL is set nowhere, the database is DATA_DIR/kamo_load.db.
"""
