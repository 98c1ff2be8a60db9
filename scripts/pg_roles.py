"""Least-privilege PostgreSQL roles for KAMO Load Logger: the SQL, and a way to run it.

    python scripts/pg_roles.py --database kamo            # print the SQL (psql -f -)
    python scripts/pg_roles.py --database kamo --apply postgresql://postgres@127.0.0.1/postgres

Two steps, because grants name tables and the collector creates them:
- `setup`, as a superuser, before the collector's first start: the collector role owns the
  database (so it creates and migrates the schema); the API role may connect and read, and
  reads every table the collector creates later (default privileges).
- `grants`, as a superuser or the collector role, after the collector's first start (it is
  safe to run again after any upgrade): SELECT on every table, and INSERT on
  `import_request`, the only table the API writes (the key is the request id: no sequence).
"""

from __future__ import annotations

import argparse
import re
import sys

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str, what: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"{what} {name!r}: use lower-case letters, digits and _")
    return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def setup_sql(
    database: str,
    collector: str = "kamo_collector",
    api: str = "kamo_api",
    collector_password: str | None = None,
    api_password: str | None = None,
) -> list[str]:
    """Roles and the database (run as a superuser, before the collector starts)."""
    db, col, rest = _ident(database, "database"), _ident(collector, "role"), _ident(api, "role")

    def login(password: str | None) -> str:
        return f"LOGIN PASSWORD {_literal(password)}" if password else "LOGIN"

    return [
        f"CREATE ROLE {col} {login(collector_password)}",
        f"CREATE ROLE {rest} {login(api_password)}",
        f"CREATE DATABASE {db} OWNER {col}",
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {db} TO {rest}",
    ]


def schema_sql(collector: str = "kamo_collector", api: str = "kamo_api") -> list[str]:
    """Inside the database (as a superuser or the database owner): the API reads what the
    collector creates, now and after later migrations; nobody else creates tables."""
    col, rest = _ident(collector, "role"), _ident(api, "role")
    return [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {rest}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {col} IN SCHEMA public "
        f"GRANT SELECT ON TABLES TO {rest}",
    ]


def grants_sql(api: str = "kamo_api") -> list[str]:
    """After the collector created the schema: read everything, insert requests only."""
    rest = _ident(api, "role")
    return [
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {rest}",
        f'GRANT INSERT ON "import_request" TO {rest}',
    ]


def apply(url: str, statements: list[str]) -> None:
    """Run statements one by one in autocommit (CREATE DATABASE cannot run in a block)."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="kamo")
    parser.add_argument("--collector-role", default="kamo_collector")
    parser.add_argument("--api-role", default="kamo_api")
    parser.add_argument(
        "--step", choices=["setup", "grants"], default="setup", help="see the module docstring"
    )
    parser.add_argument("--apply", metavar="URL", help="run it on this server (a superuser)")
    args = parser.parse_args(argv)
    try:
        if args.step == "setup":
            server = setup_sql(args.database, args.collector_role, args.api_role)
            inside = schema_sql(args.collector_role, args.api_role)
        else:
            server, inside = [], grants_sql(args.api_role)
    except ValueError as exc:
        print(f"pg_roles: {exc}", file=sys.stderr)
        return 2
    if args.apply:
        apply(args.apply, server)
        apply(args.apply.rsplit("/", 1)[0] + "/" + args.database, inside)
        return 0
    for statement in server:
        print(statement + ";")
    if server:
        print(f"\\connect {args.database}")
    for statement in inside:
        print(statement + ";")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
