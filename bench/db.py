"""Bench plumbing: point Django at a dedicated PostgreSQL database, create and migrate it.

Benches never run on the embedded SQLite default: they measure PostgreSQL plans. With no
DATABASE_URL they use postgres://postgres@127.0.0.1:5432/inflow_bench, created if missing."""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/inflow_bench"


def database_ensure(url: str) -> None:
    """Create the database named in `url` if it does not exist (connecting to `postgres`)."""
    import environ
    import psycopg2
    from psycopg2 import sql

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit(f"The benches need PostgreSQL; DATABASE_URL is {config['ENGINE']}. "
                         f"Set DATABASE_URL={DEFAULT_DATABASE_URL}")
    params = {"dbname": "postgres", "user": config.get("USER") or None, "password": config.get("PASSWORD") or None,
              "host": config.get("HOST") or None, "port": config.get("PORT") or None}
    conn = psycopg2.connect(**{k: v for k, v in params.items() if v})
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    finally:
        conn.close()


def bench_setup(*, migrate: bool = True) -> None:
    """Configure Django for a bench run: PostgreSQL database ensured, migrated, apps loaded."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    database_ensure(os.environ["DATABASE_URL"])
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
