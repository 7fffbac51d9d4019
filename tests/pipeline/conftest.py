"""Fixtures of the pipeline tests: the two stacks as real processes, clients, test images.

One production stack and one embedded stack serve the whole session (starting one costs a few
seconds). Fault tests start stacks of their own with ``start_stack``; as every sketchworker
reconciles *all* unfinished sketches of the shared test database, ``start_stack`` first stops
the shared stack's workers (a later ``prod_stack`` user gets them back).

Stack tests talk to child processes that commit to the test database: the tables are emptied
after each module (ids keep counting, so storage keys never repeat). ``user_client(stack)``
makes a user directly in the database with a token: registering hashes a password for half a
second in the stack, so only the end-to-end test registers through the API.
"""

import io
import re
import uuid
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, image_bytes
from tests.support.stack import Client, EmbeddedStack, ProductionStack, photo_jpeg

PHOTO = Path(__file__).resolve().parents[2] / "tests" / "photos" / "volna-beach.jpg"
# Small enough that "bigger than the policy allows" is a quick upload; a 12 MP JPEG is ~2 MB.
MAX_FILE_SIZE = 4 * 1024 * 1024
SHARED_STACK_ENV = {"MAX_FILE_SIZE": str(MAX_FILE_SIZE)}


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:80]


@pytest.fixture(scope="session")
def test_database(django_db_setup, django_db_blocker):
    """The test database, even when no test of the session asked for pytest-django's ``db``.

    pytest-django creates it only for sessions with such a test; stack tests reach the
    database through child processes (and ``django_db_blocker``) instead.
    """
    from django.db import connection

    if connection.settings_dict["NAME"].startswith("test_"):
        yield
        return
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        teardown_databases(created, verbosity=0)


KEEP_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


@pytest.fixture(scope="module", autouse=True)
def empty_tables_after_module(test_database, django_db_blocker):
    """What the stacks committed goes when the module ends (sequences keep counting)."""
    yield
    from django.core.management.color import no_style
    from django.db import connection

    with django_db_blocker.unblock():
        tables = [t for t in connection.introspection.django_table_names(only_existing=True) if t not in KEEP_TABLES]
        with connection.cursor() as cursor:
            for statement in connection.ops.sql_flush(no_style(), tables, reset_sequences=False, allow_cascade=True):
                cursor.execute(statement)


class SharedStacks:
    """The session's production stack, whose workers can be stopped while fault tests run."""

    def __init__(self):
        self.production: ProductionStack | None = None

    def pause_workers(self) -> None:
        from tests.support.stack import kill_tree

        if self.production is not None:
            for worker in self.production.workers:
                kill_tree(worker)
            self.production.workers.clear()

    def resume_workers(self) -> None:
        stack = self.production
        if stack is not None and not stack.workers:
            for _ in range(stack.initial_workers):
                stack.add_worker()
            stack.wait_for_workers(stack.initial_workers)


@pytest.fixture(scope="session")
def shared_stacks():
    return SharedStacks()


@pytest.fixture(scope="session")
def _production_stack(test_database, stack_env, seaweed, artifacts_dir, shared_stacks):
    logs = artifacts_dir / "pipeline" / "shared-production"
    logs.mkdir(parents=True, exist_ok=True)
    stack = ProductionStack(stack_env, seaweed, logs, workers=1, env=SHARED_STACK_ENV).start()
    shared_stacks.production = stack
    yield stack
    shared_stacks.production = None
    stack.stop()


def _no_server_errors(stack):
    """Fail the test if the web process answered 5xx or logged an unhandled exception during it."""
    watch = stack.watch_web()
    yield stack
    errors = watch.server_errors()
    assert not errors, "the web process failed during this test:\n" + "\n".join(line[:600] for line in errors[:10])


@pytest.fixture
def prod_stack(_production_stack, shared_stacks):
    """daphne + one sketchworker + own Redis + a SeaweedFS bucket, shared by the session."""
    shared_stacks.resume_workers()
    yield from _no_server_errors(_production_stack)


@pytest.fixture(scope="session")
def _embedded_stack(test_database, stack_env, tmp_path_factory, artifacts_dir):
    logs = artifacts_dir / "pipeline" / "shared-embedded"
    logs.mkdir(parents=True, exist_ok=True)
    stack = EmbeddedStack(stack_env, tmp_path_factory.mktemp("embedded-var"), logs, env=SHARED_STACK_ENV).start()
    yield stack
    stack.stop()


@pytest.fixture
def embedded_stack(_embedded_stack):
    """``make run``: one daphne, SQLite and media in its own VAR_DIR, the in-process worker."""
    yield from _no_server_errors(_embedded_stack)


@pytest.fixture
def start_stack(test_database, stack_env, seaweed, artifacts_dir, shared_stacks, request):
    """Start a ProductionStack of one's own (stopped at the end of the test): ``start_stack(workers=2, ...)``."""
    shared_stacks.pause_workers()
    stacks = []
    logs = artifacts_dir / "pipeline" / _slug(request.node.name)
    logs.mkdir(parents=True, exist_ok=True)

    def start(**options):
        options.setdefault("seaweed", seaweed)
        stack = ProductionStack(stack_env, log_dir=logs, **options)
        stacks.append(stack)
        return stack.start()

    yield start
    for stack in reversed(stacks):
        stack.stop()


@pytest.fixture
def user_client(test_database, django_db_blocker):
    """``user_client(stack, role="user")`` -> a Client with a fresh user's Bearer token."""
    import itertools

    counter = itertools.count()

    def make(stack, role: str = "user") -> Client:
        from accounts.models import User
        from accounts.tokens import issue_pair

        if isinstance(stack, EmbeddedStack):  # its own SQLite database: register through the API
            assert role == "user", "admins of the embedded stack: use manage.py there"
            return stack.client().register()

        with django_db_blocker.unblock():
            user = User.objects.create_user(
                email=f"{role}{next(counter)}-{uuid.uuid4().hex[:8]}@example.com", password=PASSWORD, role=role
            )
            token = issue_pair(user).access
        client = Client(stack.url, token=token)
        client.user = {"id": user.pk, "email": user.email, "role": role}
        return client

    return make


@pytest.fixture
def db_blocker(test_database, django_db_blocker):
    """``with db_blocker.unblock():`` to read what the stack committed."""
    return django_db_blocker


# ----------------------------------------------------------------------------- images
@pytest.fixture(scope="session")
def photo_12mp(tmp_path_factory) -> bytes:
    """volna-beach.jpg resized to 4000x3000: a 12 MP phone-sized JPEG."""
    return photo_jpeg(PHOTO, (4000, 3000))


@pytest.fixture(scope="session")
def small_jpeg() -> bytes:
    return image_bytes(320, 240, "JPEG", quality=90)


@pytest.fixture(scope="session")
def small_png() -> bytes:
    return image_bytes(96, 64, "PNG")


def jpeg_of(width: int, height: int) -> bytes:
    return image_bytes(width, height, "JPEG", quality=85)


@pytest.fixture(scope="session")
def hostile_files(small_jpeg) -> dict:
    """name -> (filename, declared content type, bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    # A valid-looking PNG whose header claims 30000x30000 (900 MP): a few hundred bytes.
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b"")
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
    html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
    big_jpeg = jpeg_of(1600, 1200)
    return {
        "html_as_png": ("innocent.png", "image/png", html),
        "truncated_jpeg": ("cut.jpg", "image/jpeg", big_jpeg[: len(big_jpeg) // 2]),
        "png_bomb": ("bomb.png", "image/png", bomb),
        "svg": ("vector.png", "image/png", svg),
        "zero_bytes": ("empty.jpg", "image/jpeg", b""),
    }


def png_info(data: bytes):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size
