"""How a command stops: dbtool.py turns these into a message and exit status 1."""

from __future__ import annotations


class Refused(Exception):
    """The command will not go on; the message says why and what to do."""


class BadDatabase(Refused):
    pass


class Failed(Exception):
    """Something went wrong; the message says in what state things are."""
