"""All SQL of the API (and of the dashboard to come). Functions take the database first.

Written for SQLite, the default store; each query reads through an index range, and
none counts the readings table (row counts come from `row_count`).
"""
