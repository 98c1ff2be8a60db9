"""How a command stops: dbtool.py turns these into a message and exit status 1. The classes
live with the backup code the collector shares (collector.backup_files)."""

from __future__ import annotations

from collector.backup_files import BadDatabase, Failed, Refused

__all__ = ["BadDatabase", "Failed", "Refused"]
