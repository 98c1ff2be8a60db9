"""All SQL of the API (and of the dashboard to come). Functions take the database first.

The same SQL serves SQLite, the default store, and PostgreSQL: placeholders come from
`db.param`, and the few differences between the two are in `common` (see there). Each
query reads through an index range, and none counts the readings table (row counts come
from `row_count`).
"""
