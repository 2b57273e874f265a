"""Shared set-up for benchmarks: Django on a dedicated database, a clean broker."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in ("platform", "workers"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))


def setup_django(database_suffix: str = "_bench") -> None:
    """Point Django at `<DATABASE_URL database><suffix>`, creating and migrating it, so a
    benchmark never touches real data."""
    import environ

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pressroom.settings")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Benchmarks need DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://... (make bench)")
    config = environ.Env.db_url_config(url)
    bench_name = config["NAME"] + database_suffix
    _create_database(config, bench_name)
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + bench_name

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _create_database(config: dict, name: str) -> None:
    import psycopg

    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432, user=config["USER"] or "postgres",
        dbname="postgres", autocommit=True,
    ) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def flush_broker() -> None:
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
