"""``make image-smoke``: build the image, run it the way production does, one sketch end to end.

The migrate role, one worker and the web run as containers (``--network host``) against this
machine's PostgreSQL (a database of their own, created and dropped here), a redis-server and a
SeaweedFS started for the run. A client on the host then registers, uploads a photo through the
presigned POST, creates a sketch, waits for ``completed`` over the WebSocket and downloads the
result: every request is answered by the containers. The containers are stopped with SIGTERM and
must exit 0 within 10 s. Everything the run made is removed, except the base image (cached).
Each step's time is printed, and a summary at the end; any failure exits non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg
import redis
import requests
from psycopg import sql

from scripts.seaweed import SeaweedServer
from tests.support.processes import free_port, redis_server
from tests.support.stack import Client, decode_image, photo_jpeg

from .base import LOCAL_BASE, choose_base
from .build import build_image
from .engine import Engine, EngineError, detect
from .report import WORK_DIR, log

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "tests" / "photos" / "forest-path.jpg"
STOP_BUDGET = 10.0  # seconds: what Cloud Run gives an instance after SIGTERM
APP_UID = "10001"


class SmokeFailure(AssertionError):
    pass


class Steps:
    """Times each step, prints it as it ends, and keeps the list for the summary."""

    def __init__(self):
        self.done: list[tuple[str, float]] = []
        self.started = time.monotonic()

    @contextlib.contextmanager
    def __call__(self, name: str):
        started = time.monotonic()
        log(f"… {name}")
        yield
        self.record(name, time.monotonic() - started)

    def record(self, name: str, seconds: float) -> None:
        self.done.append((name, seconds))
        log(f"✓ {name}: {seconds:.1f} s")

    def summary(self, extra: list[str]) -> str:
        width = max(len(name) for name, _ in self.done)
        lines = [f"  {name:<{width}}  {seconds:7.1f} s" for name, seconds in self.done]
        lines.append(f"  {'total':<{width}}  {time.monotonic() - self.started:7.1f} s")
        return "\n".join(["image smoke: passed", *lines, *extra])


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


# ----------------------------------------------------------------------------- services on the host
@contextlib.contextmanager
def scratch_database(server_url: str):
    """A database of its own on the PostgreSQL server of ``server_url``; dropped afterwards."""
    parts = urllib.parse.urlsplit(server_url)
    name = f"sketchsite_smoke_{uuid.uuid4().hex[:10]}"
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def scratch_redis(log_dir: Path):
    port = free_port()
    server = redis_server(port, log_dir, name=f"redis-smoke-{port}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()


@contextlib.contextmanager
def scratch_seaweed(data_dir: Path):
    server = SeaweedServer(str(data_dir)).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir / "data", ignore_errors=True)  # the photo and the sketch; weed.log stays


# ----------------------------------------------------------------------------- containers
class Containers:
    """The run's containers: started detached with the same environment, logged, stopped, removed."""

    def __init__(self, engine: Engine, image: str, env: dict[str, str], prefix: str, log_dir: Path):
        self.engine, self.image, self.env, self.prefix, self.log_dir = engine, image, env, prefix, log_dir
        self.names: list[str] = []

    def env_flags(self, extra: dict[str, str] | None = None) -> list[str]:
        # `-e NAME` takes the value from the engine's environment: no secret on a command line.
        return [flag for name in {**self.env, **(extra or {})} for flag in ("-e", name)]

    def run_once(self, role: str, timeout: float = 300) -> str:
        result = self.engine.run(
            "run", "--rm", "--network", "host", *self.env_flags(), self.image, role, env=self.env, timeout=timeout
        )
        return result.stdout

    def start(self, role: str, extra: dict[str, str] | None = None) -> str:
        name = f"{self.prefix}-{role}"
        self.engine.run(
            "run",
            "--detach",
            "--name",
            name,
            "--network",
            "host",
            *self.env_flags(extra),
            self.image,
            role,
            env={**self.env, **(extra or {})},
        )
        self.names.append(name)
        return name

    def running(self, name: str) -> bool:
        state = self.engine.run("inspect", "--format", "{{.State.Running}}", name, check=False).stdout.strip()
        return state == "true"

    def logs(self, name: str) -> str:
        result = self.engine.run("logs", name, check=False)
        return result.stdout + result.stderr

    def stop(self, name: str) -> tuple[float, int]:
        """SIGTERM (the engine's stop), then the seconds it took and the exit code."""
        started = time.monotonic()
        self.engine.run("stop", "--time", str(int(STOP_BUDGET)), name, timeout=STOP_BUDGET + 30)
        seconds = time.monotonic() - started
        code = int(self.engine.run("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip())
        return seconds, code

    def remove_all(self) -> None:
        for name in self.names:
            (self.log_dir / f"{name}.log").write_text(self.logs(name))
            self.engine.run("rm", "--force", name, check=False)
        self.names.clear()


def wait_until(predicate, timeout: float, what: str, alive=None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what}: not within {timeout} s")
        time.sleep(0.2)


def live(url: str) -> bool:
    try:
        return requests.get(f"{url}/health/live", timeout=2).status_code == 200
    except requests.RequestException:
        return False


# ----------------------------------------------------------------------------- the run
def run(args) -> str:
    steps = Steps()
    run_id = uuid.uuid4().hex[:8]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log_dir = WORK_DIR / f"smoke-{run_id}"
    log_dir.mkdir()
    engine = detect(WORK_DIR)
    images_before = engine.image_ids()
    tag = f"localhost/sketch-studio:smoke-{run_id}"
    facts: list[str] = []

    with contextlib.ExitStack() as cleanup:
        kept = [LOCAL_BASE]  # and the base in use, once known
        cleanup.callback(remove_new_images, engine, images_before, kept, steps)
        with steps("base image"):
            base, base_steps = choose_base(engine, WORK_DIR, log)
        kept.append(base)
        for name, seconds in base_steps.items():
            steps.record(f"  {name}", seconds)
        steps.record("build", build_image(engine, tag, base, WORK_DIR, log))
        size = engine.image_size(tag)
        facts.append(f"image {tag} on {base}: {size / 1e6:.0f} MB")
        log(facts[-1])

        with steps("services (PostgreSQL database, redis-server, SeaweedFS)"):
            database_url = cleanup.enter_context(scratch_database(args.database_server))
            redis_url = cleanup.enter_context(scratch_redis(log_dir))
            seaweed = cleanup.enter_context(scratch_seaweed(log_dir / "seaweed"))
            bucket = f"smoke-{run_id}"
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            seaweed.ensure_bucket(bucket, [base_url])

        env = {
            "DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BASE_URL": base_url,
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            **seaweed.env(bucket),
        }
        containers = Containers(engine, tag, env, f"sketch-smoke-{run_id}", log_dir)
        cleanup.callback(containers.remove_all)

        with steps("migrate role"):
            output = containers.run_once("migrate")
            expect("Applying" in output, f"migrate applied nothing:\n{output[-2000:]}")

        with steps("worker and web up (/health/live, worker registered)"):
            worker = containers.start("worker")
            web = containers.start("web", {"PORT": str(port)})

            def both_running():
                for name in (worker, web):
                    if not containers.running(name):
                        raise SmokeFailure(f"{name} exited:\n{containers.logs(name)[-3000:]}")

            wait_until(lambda: live(base_url), 90, "the web answers /health/live", both_running)
            queue = redis.Redis.from_url(redis_url)
            wait_until(lambda: queue.scard("rq:workers:sketches") >= 1, 90, "the worker registers with RQ", both_running)
            queue.close()
        for name in (worker, web):
            uid = engine.run("exec", name, "id", "-u").stdout.strip()
            expect(uid == APP_UID, f"{name} runs as uid {uid}, not the app user {APP_UID}")

        client = Client(base_url)
        with steps("register"):
            client.register()
        photo = photo_jpeg(args.photo, size=(1600, 1200))
        with steps("upload through the presigned POST"):
            presigned = client.presign("photo.jpg", "image/jpeg", len(photo))
            expect(presigned["url"].startswith(f"{seaweed.endpoint}/"), f"the form posts to {presigned['url']}, not to S3")
            posted = client.post_file(presigned, photo, "photo.jpg", "image/jpeg")
            expect(posted.status_code in (200, 201, 204), f"S3 refused the upload: {posted.status_code} {posted.text[:300]}")
            upload = client.confirm(presigned["upload_id"])
            expect(upload["status"] == "confirmed", f"upload not confirmed: {upload}")
        with client.listen() as listener:
            listener.snapshot()
            with steps("create a sketch"):
                sketch = client.create(upload["id"], style="pencil", method="basic")
            with steps("completed over the WebSocket"):
                final = listener.wait_final(sketch["id"], timeout=120)
                expect(final["status"] == "completed", f"the sketch ended {final['status']}: {final}")
        with steps("download the result"):
            result = client.sketch(sketch["id"])
            downloaded = client.fetch(result["result_url"])
            expect(downloaded.status_code == 200, f"result download -> {downloaded.status_code}")
            dimensions, image_format = decode_image(downloaded.content)
            expect(dimensions == (1600, 1200), f"the result is {dimensions}, the photo 1600x1200")
        facts.append(f"result: {image_format} {dimensions[0]}x{dimensions[1]}, {len(downloaded.content)} bytes")

        for name in (web, worker):
            seconds, code = containers.stop(name)
            steps.record(f"stop {name.rsplit('-', 1)[1]} (SIGTERM, exit {code})", seconds)
            expect(code == 0, f"{name} exited with {code} after SIGTERM:\n{containers.logs(name)[-3000:]}")
            expect(seconds < STOP_BUDGET, f"{name} took {seconds:.1f} s to stop (budget {STOP_BUDGET:.0f} s)")
    return steps.summary(facts)


def remove_new_images(engine: Engine, before: set[str], kept: list[str], steps: Steps) -> None:
    """Every image this run made (the app image, its build stage, cached steps), but the base."""
    started = time.monotonic()
    keep = {engine.image_id(ref) for ref in kept if engine.image_exists(ref)}
    engine.remove_images(engine.image_ids() - before - keep)
    steps.record("remove the images it built", time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=PHOTO)
    parser.add_argument(
        "--database-server",
        default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL; the run creates and drops its own database on that server",
    )
    args = parser.parse_args(argv)
    try:
        print(run(args), flush=True)
    except (SmokeFailure, EngineError, RuntimeError) as failure:
        print(f"image smoke: FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    return 0
