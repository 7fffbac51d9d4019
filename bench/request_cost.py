"""What one API request costs the web process: CPU milliseconds and latency, per endpoint.

Starts the production stack's web on this machine (a scratch PostgreSQL database, its own
redis-server, SeaweedFS, one daphne; no workers: nothing else competes), then sends sequential
requests to each endpoint from one client and reads the daphne process's CPU time around them.
CPU per request is the robust figure on a busy machine; latency is what one client waits.

Run: .venv/bin/python bench/request_cost.py [--requests 300] [--settings sketchsite.settings]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.seaweed import SeaweedServer  # noqa: E402
from tests.support.processes import BIN  # noqa: E402
from tests.support.scratch import production_env, scratch_database  # noqa: E402
from tests.support.stack import PASSWORD, ProductionStack  # noqa: E402

SEED = """
import json
from accounts.models import User
from accounts.tokens import issue_pair
from sketches.models import Upload
user = User.objects.create_user("cost@example.com", {password!r})
# A confirmed upload to create sketches from (create does not read the file; no worker runs them).
upload = Upload.objects.create(owner=user, key="uploads/cost/photo.jpg", content_type="image/jpeg", status="confirmed")
json.dump({{"token": issue_pair(user).access, "upload": str(upload.pk)}}, open({path!r}, "w"))
"""


def cpu_seconds(process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(session, url: str, process, count: int, rounds: int, body: dict | None = None) -> dict:
    """CPU per request: the lowest of ``rounds`` rounds (other work on the machine only adds to it).

    With ``body`` a POST of it as JSON, else a GET."""

    def send():
        if body is None:
            return session.get(url, timeout=30).raise_for_status()
        return session.post(url, json=body, timeout=30).raise_for_status()

    for _ in range(20):  # warm: imports, caches, the first connection
        send()
    latencies, cpu_per_round = [], []
    for _ in range(rounds):
        cpu_before = cpu_seconds(process)
        for _ in range(count):
            started = time.perf_counter()
            send()
            latencies.append((time.perf_counter() - started) * 1000)
        cpu_per_round.append((cpu_seconds(process) - cpu_before) * 1000 / count)
    latencies.sort()
    return {
        "cpu_ms": min(cpu_per_round),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main() -> int:
    import psutil
    import requests

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database", default=os.environ.get("LOAD_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--requests", type=int, default=100, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=5, help="CPU per request is the lowest round's")
    parser.add_argument("--settings", default="sketchsite.settings", help="DJANGO_SETTINGS_MODULE of the web (to try a change)")
    parser.add_argument("--profile", type=Path, help="py-spy the web during the run; collapsed stacks go here")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra environment for the web")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sketch-cost-"))
    database_url, drop = scratch_database(args.database, "sketchcost")
    s3 = SeaweedServer(str(work / "seaweed")).start()
    stack = None
    try:
        env = production_env(database_url, work / "var", settings=args.settings, pythonpath=str(ROOT))
        extra = dict(item.split("=", 1) for item in args.env)
        # Every create stays queued (no worker runs here): lift the per-user cap, the creation rate
        # and the storage quota (each create reserves room for its result) above what the run makes.
        limits = {
            "MAX_CONCURRENT_TASKS": str(10 * args.requests * args.rounds),
            "THROTTLE_SKETCH_CREATE": "1000000/hour",
            "USER_STORAGE_QUOTA": "0",
        }
        extra = {**limits, **extra}
        stack = ProductionStack(env, s3, work, workers=0, env=extra)
        stack.manage("migrate", "--noinput")
        seed = work / "seed.json"
        stack.manage("shell", "-c", SEED.format(password=PASSWORD, path=str(seed)))
        stack.start()
        seeded = json.loads(seed.read_text())
        token = seeded["token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        process = psutil.Process(stack.web.pid)
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(stack.web.pid),
                    "--rate",
                    "500",
                    "--nonblocking",
                    "--gil",
                    "--format",
                    "raw",
                    "--output",
                    str(args.profile),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
        create = {"upload_id": seeded["upload"], "style": "pencil", "method": "basic"}
        endpoints = [
            ("/health/live", None),
            ("/api/sketch/styles/available", None),
            ("/api/auth/me", None),
            ("/api/sketch/", None),
            ("/api/sketch/create", create),
        ]
        print(f"{args.rounds} × {args.requests} sequential requests per endpoint; web settings {args.settings} {extra or ''}")
        print(f"{'endpoint':<32} {'CPU ms/req':>10} {'p50 ms':>8} {'p99 ms':>8}")
        for path, body in endpoints:
            figures = measure(session, stack.url + path, process, args.requests, args.rounds, body)
            print(f"{path:<32} {figures['cpu_ms']:>10.2f} {figures['p50_ms']:>8.2f} {figures['p99_ms']:>8.2f}")
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
    finally:
        if stack is not None:
            stack.stop()
        s3.stop()
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
