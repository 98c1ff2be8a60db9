"""The collector daemon: polls KAMO on clock-aligned slots and writes the database."""

__version__ = "0.1.0"
