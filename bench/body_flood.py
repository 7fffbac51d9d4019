"""Big request bodies against the web: does ``/health`` stay fast and the memory flat?

Starts the embedded default (``make run``'s web: SQLite, local media) as a real process, then for
each scenario has ``--clients`` processes post bodies of ``--size`` MB over raw sockets, each
posting again as soon as it is answered or cut off, for ``--duration`` s, while ``--health`` is
asked every 20 ms; it prints the answers, the latencies (idle first, then under the flood) and
the web's RSS growth. The honest scenario posts real presigned uploads of ``MAX_FILE_SIZE`` each.
A web whose RSS passes ``--rss-cap`` MB is killed (and restarted for the next scenario), so a
server that buffers bodies cannot take the machine down.

Run: .venv/bin/python bench/body_flood.py [--clients 4] [--size 200] [--scenarios form,multipart,chunked,json,honest] [--check]

With ``--check`` it exits 1 unless every flood body got its 413, the timed path's p99 stayed
under 100 ms and the web's RSS grew by less than 100 MB (a bar for a quiet machine: on a
shared one the neighbours' load alone can pass it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.flood import MB, Answer, FloodReport, flood  # noqa: E402
from tests.support.processes import base_env  # noqa: E402
from tests.support.stack import Client, EmbeddedStack  # noqa: E402

BOUNDARY = "----flood"
SCENARIOS = {
    # name: (path, content type, chunked, filler)
    "form": ("/nothing", "application/x-www-form-urlencoded", False, b"a&"),
    "multipart": ("/api/upload/local", f"multipart/form-data; boundary={BOUNDARY}", False, b"x"),
    "chunked": ("/api/auth/login", "application/x-www-form-urlencoded", True, b"a&"),
    "json": ("/api/auth/login", "application/json", False, b" "),
}
MULTIPART_PREFIX = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
).encode()


def honest_uploads(stack: EmbeddedStack, clients: int, size: int, health_path: str) -> FloodReport:
    """``clients`` users each post a presigned upload of ``size`` bytes at once (the view stores it)."""
    users = [Client(stack.url).register() for _ in range(clients)]
    forms = [user.presign("photo.jpg", "image/jpeg", size) for user in users]
    data = b"\xff\xd8\xff" + b"x" * (size - 3)
    process = psutil.Process(stack.web.pid)
    report = FloodReport(rss_before=process.memory_info().rss, health_path=health_path)
    report.rss_peak = report.rss_before
    done = threading.Event()
    statuses: list[int] = []

    def watch():
        while not done.is_set():
            report.rss_peak = max(report.rss_peak, process.memory_info().rss)
            time.sleep(0.02)

    def probe():
        import requests

        session = requests.Session()
        while not done.is_set():
            started = time.monotonic()
            report.health_statuses.append(session.get(f"{stack.url}{health_path}", timeout=120).status_code)
            report.health_ms.append((time.monotonic() - started) * 1000)
            time.sleep(0.05)

    def send(form):
        statuses.append(Client.post_file(form, data, "photo.jpg", "image/jpeg", timeout=120).status_code)

    helpers = [threading.Thread(target=watch, daemon=True), threading.Thread(target=probe, daemon=True)]
    senders = [threading.Thread(target=send, args=(form,)) for form in forms]
    started = time.monotonic()
    for thread in helpers + senders:
        thread.start()
    for thread in senders:
        thread.join()
    report.seconds = time.monotonic() - started
    time.sleep(0.3)
    done.set()
    for thread in helpers:
        thread.join()
    report.answers = [Answer(status, b"", b"", size, 0.0) for status in statuses]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--size", type=int, default=200, help="MB per body (flood scenarios)")
    parser.add_argument("--scenarios", default="form,multipart,chunked,honest")
    parser.add_argument("--rss-cap", type=int, default=3072, help="MB; the web is killed past it")
    parser.add_argument("--duration", type=float, default=5, help="s; each client posts again until then")
    parser.add_argument("--health", default="/health", help="the path timed during the flood")
    parser.add_argument("--check", action="store_true", help="exit 1 past the bars (p99 100 ms, RSS +100 MB)")
    args = parser.parse_args()

    failures = []
    with tempfile.TemporaryDirectory(prefix="body-flood-") as scratch:
        stack = None
        for name in args.scenarios.split(","):
            if stack is None or not stack.web.alive():
                if stack is not None:
                    stack.stop()
                stack = EmbeddedStack(base_env(), Path(scratch) / "var", Path(scratch) / "logs").start()
                Client(stack.url).get("/health")  # warm
            if name == "honest":
                max_size = 20 * MB  # MAX_FILE_SIZE's default
                report = honest_uploads(stack, args.clients, max_size, args.health)
                label = f"honest: {args.clients} x {max_size // MB} MB presigned uploads to /api/upload/local"
            else:
                path, content_type, chunked, filler = SCENARIOS[name]
                report = flood(
                    stack.port,
                    stack.web.pid,
                    clients=args.clients,
                    size=args.size * MB,
                    path=path,
                    content_type=content_type,
                    chunked=chunked,
                    filler=filler,
                    prefix=MULTIPART_PREFIX if name == "multipart" else b"",
                    rss_cap=args.rss_cap * MB,
                    duration=args.duration,
                    baseline=2,
                    probe_every=0.02,
                    health_path=args.health,
                )
                label = f"{name}: {args.clients} clients x {args.size} MB {'chunked ' if chunked else ''}{content_type.split(';')[0]} to {path}"
            print(f"{label}\n    {report.summary()}", flush=True)
            if name != "honest" and (
                report.aborted
                or any(answer.status != 413 for answer in report.answers)
                or report.percentile(0.99) >= 100
                or report.rss_growth_mb >= 100
            ):
                failures.append(name)
        if stack is not None:
            stack.stop()
    if args.check and failures:
        print(f"over the bar: {', '.join(failures)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
