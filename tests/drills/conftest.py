"""Fixtures of the fault drills: a production stack of one's own per drill, on a database of the drills' own.

The drills terminate PostgreSQL backends, kill workers and restart daphne: they run on a
scratch database (``test_drills_<hex>``, migrated once per session, dropped at the end) so that
no other stack's reconciler (tests/pipeline's shared stack reconciles every unfinished sketch
of the test database) and no other test's connection is caught in them. Each drill starts its
own ProductionStack (own redis-server, own bucket); what a drill leaves unfinished is failed
at its end so that the next drill's reconciler does not adopt it.

Each drill records its outcome with ``drill_record(...)``: the terminal summary prints them, and
with ``DRILLS_REPORT=docs/BENCHMARKS.md`` (``make drills``) they replace that file's "## Drills"
section.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest

from tests.support.processes import base_env
from tests.support.stack import Client, ProductionStack

ADMIN_URL = os.environ.get("DRILLS_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "drills-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
OUTCOMES: list[dict] = []


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:80]


@pytest.fixture(scope="session")
def drill_database():
    """A scratch database, migrated: ``postgresql://.../test_drills_<hex>``."""
    import psycopg

    name = f"test_drills_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        from tests.support.stack import _manage

        _manage(
            base_env(
                DJANGO_SETTINGS_MODULE="sketchsite.settings",
                DATABASE_URL=url,
                DJANGO_SECRET_KEY=SECRET,
                DEBUG="false",
                ENV_FILE="/nonexistent/.env",
                REDIS_URL=None,
                AWS_BUCKET_NAME=None,
            ),
            "migrate",
            "--noinput",
        )
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def drill_env(drill_database, tmp_path_factory):
    """The production settings, fast housekeeping (as tests/pipeline's stacks), on the drills' database.

    To try a fix without editing the app: ``DRILLS_SETTINGS=my_settings DRILLS_PYTHONPATH=/dir`` (a
    module that imports ``sketchsite.settings`` and changes what the fix changes).
    """
    from tests.support.processes import ROOT

    return base_env(
        DJANGO_SETTINGS_MODULE=os.environ.get("DRILLS_SETTINGS", "sketchsite.settings"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("DRILLS_PYTHONPATH", "")])),
        DATABASE_URL=drill_database,
        DJANGO_SECRET_KEY=SECRET,
        JWT_SECRET_KEY=SECRET + "-jwt",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(tmp_path_factory.mktemp("drills-var")),
        TASK_TIMEOUT="60",
        SKETCH_STALE_AFTER="8",
        RECONCILE_INTERVAL="2",
        MAX_CONCURRENT_TASKS="20",
        AWS_BUCKET_NAME=None,
        REDIS_URL=None,
    )


def run_sql(database_url: str, sql: str, params=()):
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def terminate_backends(database_url: str) -> int:
    """``pg_terminate_backend`` on every other connection to the database: what a failover or a DBA does."""
    rows = run_sql(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    return sum(1 for (ok,) in rows if ok)


@pytest.fixture
def drill_stack(drill_env, drill_database, seaweed, artifacts_dir, request):
    """``drill_stack(workers=2, slow_render=3, env={...}, seaweed=...)`` → a started ProductionStack, stopped after the test."""
    stacks: list[ProductionStack] = []
    logs = artifacts_dir / "drills" / _slug(request.node.name)
    logs.mkdir(parents=True, exist_ok=True)

    def start(**options) -> ProductionStack:
        options.setdefault("seaweed", seaweed)
        stack = ProductionStack(drill_env, log_dir=logs, **options)
        stack.database_url = drill_database
        stacks.append(stack)
        return stack.start()

    yield start
    for stack in reversed(stacks):
        stack.stop()
    # What a failed drill left unfinished must not be adopted by the next drill's reconciler.
    run_sql(
        drill_database,
        "UPDATE sketches_sketch SET status = 'failed', error = 'drill teardown' WHERE status IN ('queued', 'processing')",
    )


@pytest.fixture(scope="session")
def drill_jpeg() -> bytes:
    """A 640x480 photo (or a drawn picture when the photos are missing)."""
    from tests.conftest import PHOTOS, image_bytes
    from tests.support.stack import photo_jpeg

    photo = PHOTOS / "volna-beach.jpg"
    return photo_jpeg(photo, (640, 480), quality=85) if photo.exists() else image_bytes(640, 480, "JPEG", quality=85)


def result_key(sketch: dict) -> str:
    """The storage key inside a presigned result URL (``.../<bucket>/results/...?...``)."""
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(sketch["result_url"]).path.split("/", 2)[2])


def register(stack) -> Client:
    """A user through the API (as a person would; costs one password hash in the web)."""
    return stack.client().register()


@pytest.fixture
def drill_record(request):
    """``drill_record(result=..., user_sees=..., recovery_s=..., details=...)``: one row of the drills' outcome table."""

    def record(**fields):
        fields.setdefault("drill", request.node.name)
        fields.setdefault("slow", request.node.get_closest_marker("slow") is not None)
        fields["when"] = time.strftime("%Y-%m-%d %H:%M")
        OUTCOMES.append(fields)
        print(f"\n[drill] {fields}")

    return record


def _table() -> str:
    rows = ["| drill | kind | what the user sees | no loss | recovery | result |", "| --- | --- | --- | --- | --- | --- |"]
    for o in OUTCOMES:
        recovery = o.get("recovery")
        if recovery is None and o.get("recovery_s") is not None:
            recovery = f"{o['recovery_s']:.1f} s"
        rows.append(
            f"| `{o['drill']}` | {'long' if o['slow'] else 'short'} | {o.get('user_sees', '')} | {o.get('no_loss', '')} | "
            f"{recovery or '–'} | {o.get('result', '')} |"
        )
    return "\n".join(rows)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not OUTCOMES:
        return
    terminalreporter.section("fault drills")
    terminalreporter.write_line(_table())
    target = os.environ.get("DRILLS_REPORT")
    if target:
        from load.run_load import write_section

        body = (
            "`make drills` "
            + time.strftime("%Y-%m-%d %H:%M")
            + f" ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}). "
            "Each drill is a test in tests/drills/ against the production stack on this machine (daphne, sketchworkers, "
            "PostgreSQL, its own redis-server, SeaweedFS); *short* ones also run in `make test`. Recovery: from the fault "
            "to the moment every sketch of the drill was final (and, for daphne, every client caught up).\n\n" + _table()
        )
        notes = [o["details"] for o in OUTCOMES if o.get("details")]
        if notes:
            body += "\n\n" + "\n".join(f"- `{o['drill']}`: {o['details']}" for o in OUTCOMES if o.get("details"))
        write_section(Path(target), "## Drills", body)
        terminalreporter.write_line(f"wrote the '## Drills' section of {target}")
