"""The base of every Peewee model: the model class bound to the database, epoch columns.

Kept apart from the tables so shared.models and shared.feature_models both build on it.
"""

from __future__ import annotations

from peewee import BigIntegerField, Model

from shared.db import database


class EpochField(BigIntegerField):
    """UTC epoch seconds. 64-bit so PostgreSQL's INTEGER does not end in 2038 (on SQLite
    every INTEGER is already up to 8 bytes, stored in as few as the value needs)."""


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
