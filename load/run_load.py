"""``make load``: the production stack on this machine under a locust scenario, with figures.

Starts everything on 127.0.0.1 and spare ports, bounded in time, and stops it again:
a scratch PostgreSQL database (created, migrated, dropped), SeaweedFS (S3), its own
redis-server, one ``daphne`` per core (as docs/DEPLOY.md advises; the clients spread over them,
a balancer's job) and two ``manage.py sketchworker`` processes at ``nice 19``, their session's
autogroup included (the cores serve the web, the workers and the load generator alike: the web
must stay responsive). ``--worker-cpus 1`` confines the workers to CPU 1; ``--create-weight 0``
runs no jobs at all (the web as if the workers ran on machines of their own). Seeds the
accounts, runs ``locust -f load/locustfile.py --headless`` (one process), then checks what the
clients saw against the database: every sketch created must be final there and on its client.

Prints requests/s, p50/p95/p99 per endpoint, errors, sketches completed per minute, WebSocket
messages lost, and the CPU each process used; ``--output docs/BENCHMARKS.md`` replaces that
file's "## Load" section with the figures. Exit status 1 when a target is missed:
0 errors, p99 < 100 ms on the API endpoints other than uploads (and register, which hashes a
password by design), every sketch final.

Run: .venv/bin/python load/run_load.py [--users 220 --duration 60 --output docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.seaweed import SeaweedServer  # noqa: E402
from tests.support.processes import BIN, daphne  # noqa: E402
from tests.support.scratch import production_env, scratch_database  # noqa: E402
from tests.support.stack import PASSWORD, ProductionStack  # noqa: E402

UPLOADS = {"/api/upload/presigned-url", "/api/upload/confirm", "S3 POST (presigned)"}
BY_DESIGN_SLOW = {"/api/auth/register"}  # PBKDF2 with Django's default iterations: ~0.5 s of CPU
NOT_API = {"/ws connect → snapshot"} | UPLOADS | BY_DESIGN_SLOW
P99_TARGET_MS = 100
CPUS = os.cpu_count() or 1
WORKER_NICE = 19

SEED = """
import json, sys
from django.contrib.auth.hashers import make_password
from accounts.models import User
from accounts.tokens import issue_pair
hashed = make_password({password!r})  # once: every seeded user shares it (hashing 200 would take minutes)
users = User.objects.bulk_create([User(email=f"load{{i}}-{tag}@example.com", password=hashed, display_name=f"Load {{i}}") for i in range({count})])
json.dump([{{"id": u.pk, "email": u.email, "token": issue_pair(u).access}} for u in users], open({path!r}, "w"))
"""


class NicedStack(ProductionStack):
    """The production stack with its workers (and the work horses and scheduler they fork) at nice 19.

    ``idle=True``: SCHED_IDLE instead, so that they get only the CPU nothing else wants: an
    approximation of workers on machines of their own, as far as the web's latency goes.
    """

    idle = False
    cpus: set[int] | None = None

    def add_worker(self, *args, **kwargs):
        worker = super().add_worker(*args, **kwargs)
        if self.cpus:  # before the worker forks anything: its scheduler and work horses inherit it
            os.sched_setaffinity(worker.pid, self.cpus)
        # at once, before Django is even imported: what the worker forks (scheduler, work horses) inherits it
        if self.idle:
            os.sched_setscheduler(worker.pid, os.SCHED_IDLE, os.sched_param(0))
        else:
            os.setpriority(os.PRIO_PROCESS, worker.pid, WORKER_NICE)
        lower_autogroup(worker.pid, WORKER_NICE)
        return worker


def lower_autogroup(pid: int, nice: int) -> None:
    """Each stack process runs in a session of its own, and with the kernel's autogroup scheduling
    (on by default) the CPU is shared between sessions first, whatever their processes' nice
    values: a niced worker still took an equal share beside daphne (measured: 0.7 of a core while
    the web's requests queued). The session's group gets the nice value too."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError as exc:  # no autogroup support (or not allowed): process nice only
        print(f"[load] could not lower the autogroup of {pid}: {exc}", flush=True)


class Sampler(threading.Thread):
    """Once a second: PostgreSQL connections to the stack's database, and CPU of each process."""

    def __init__(self, database_url: str, processes: dict):
        super().__init__(daemon=True)
        import psutil

        self.database_url = database_url
        self.processes = {name: psutil.Process(pid) for name, pid in processes.items()}
        self.stop_event = threading.Event()
        self.pg_max = 0
        self.pg_samples: list[int] = []
        self.cpu: dict[str, float] = {}

    def cpu_seconds(self) -> dict[str, float]:
        import psutil

        machine = psutil.cpu_times()
        out = {"machine_busy": sum(machine) - machine.idle - getattr(machine, "iowait", 0.0), "machine_all": sum(machine)}
        for name, process in self.processes.items():
            try:
                times = process.cpu_times()
                out[name] = times.user + times.system + times.children_user + times.children_system
            except Exception:
                out[name] = self.cpu.get(name, 0.0)
        self.cpu = out
        return out

    def run(self):
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self.stop_event.wait(1):
                count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").fetchone()[0]
                self.pg_samples.append(count)
                self.pg_max = max(self.pg_max, count)
                self.cpu_seconds()


class Probe(threading.Thread):
    """An independent client in this process (not locust's event loop): GET /api/auth/me five times a second."""

    def __init__(self, url: str, token: str):
        super().__init__(daemon=True)
        import requests

        self.url = url + "/api/auth/me"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.stop_event = threading.Event()
        self.times: list[float] = []
        self.errors = 0

    def run(self):
        import time as clock

        while not self.stop_event.wait(0.2):
            started = clock.perf_counter()
            try:
                ok = self.session.get(self.url, timeout=30).status_code == 200
            except Exception:
                ok = False
            self.times.append((clock.perf_counter() - started) * 1000)
            self.errors += not ok


def verify_database(database_url: str, results: dict) -> dict:
    """Every sketch the clients created is in the database and final; nothing else is left active."""
    import psycopg

    watched = set(results["all_watched"])
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id::text, status, finished_at, started_at, created_at, attempts, error FROM sketches_sketch"
        ).fetchall()
    by_id = {r[0]: r for r in rows}
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row[1]] = statuses.get(row[1], 0) + 1
    missing = sorted(watched - set(by_id))
    active = sorted(r[0] for r in rows if r[1] in ("queued", "processing"))
    start, end = results["window"]["start_wall"], results["window"]["end_wall"]
    in_window = [r for r in rows if r[1] == "completed" and r[2] and start <= r[2].timestamp() <= end]
    retried = [r for r in rows if r[5] and r[5] > 1]
    failed = [(r[0], r[6]) for r in rows if r[1] == "failed"]
    return {
        "rows": len(rows),
        "statuses": statuses,
        "missing_from_db": missing,
        "active_in_db": active,
        "completed_in_window": len(in_window),
        "completed_per_minute": len(in_window) / ((end - start) / 60),
        "completed_total": statuses.get("completed", 0),
        "retried": len(retried),
        "failed": failed[:20],
    }


def fmt(value, digits=0):
    return "–" if value is None else f"{value:.{digits}f}"


# locust's endpoint names → the route the web's request log records
ROUTES = {
    "/api/sketch/ (list)": "/api/sketch/?",
    "/api/auth/me": "/api/auth/me/?",
    "/api/sketch/styles/available": "/api/sketch/styles/available/?",
    "/api/sketch/{id}": "/api/sketch/<id>/?",
    "/api/sketch/create": "/api/sketch/create/?",
    "/api/sketch/task/{task_id}": "/api/sketch/task/<task_id>/?",
    "/api/upload/presigned-url": "/api/upload/presigned-url/?",
    "/api/upload/confirm": "/api/upload/confirm/?",
    "/api/upload/download-url/{key}": "/api/upload/download-url/<path:key>",
    "/api/auth/register": "/api/auth/register/?",
}


def server_times(log_text: str, start: float, end: float) -> dict[str, list[float]]:
    """duration_ms of each request the web logged in the window, by route (time inside Django's middleware)."""
    times: dict[str, list[float]] = {}
    for line in log_text.splitlines():
        if '"sketchsite.request"' not in line:
            continue
        try:
            entry = json.loads(line)
            moment = datetime.fromisoformat(entry["time"]).timestamp()
        except (ValueError, KeyError):
            continue
        if start <= moment <= end:
            times.setdefault(entry.get("route", "?"), []).append(float(entry["duration_ms"]))
    return times


def percentile(values: list[float], q: float):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(
    results: dict, db: dict, cpu: dict, sampler: Sampler, args, meta: dict, server: dict | None = None
) -> tuple[str, list[str]]:
    stats = results["stats"]
    seconds = results["window"]["end"] - results["window"]["start"]
    endpoints = stats["endpoints"]
    api = {n: e for n, e in endpoints.items() if n not in NOT_API}
    api_requests = sum(e["requests"] for n, e in endpoints.items() if n not in {"/ws connect → snapshot", "S3 POST (presigned)"})
    ws = results["ws"]
    lines = []
    lines.append(
        f"Measured window: {seconds:.1f} s with {results['window']['ready_users']} users "
        f"({results['window']['sockets_min']}–{results['window']['sockets_max']} WebSockets open); {meta['cpus']} CPUs, "
        f"load average {meta['load_before']:.1f} before the run; workers at "
        f"{'SCHED_IDLE' if args.workers_idle else f'nice {WORKER_NICE}'}"
        f"{f' on CPU {args.worker_cpus} only' if args.worker_cpus else ''}; {args.web_processes} daphne process(es); "
        f"settings `{args.settings}`"
        f"{f' (web: `{args.web_settings}`)' if args.web_settings else ''}."
    )
    lines.append("")
    server = server or {}
    lines.append("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures | server p50 / p99 ms |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    order = sorted(endpoints.items(), key=lambda kv: (kv[0] in NOT_API, -kv[1]["requests"]))
    for name, e in order:
        mine = server.get(ROUTES.get(name, ""), [])
        inside = f"{fmt(percentile(mine, 0.5), 1)} / {fmt(percentile(mine, 0.99), 1)}" if mine else "–"
        note = " ¹" if name in UPLOADS else (" ²" if name in BY_DESIGN_SLOW else "")
        lines.append(
            f"| `{e['method']} {name}`{note} | {e['requests']} | {e['rps']:.1f} | {fmt(e['p50'])} | {fmt(e['p95'])} | {fmt(e['p99'])} | {fmt(e['max'])} | {e['failures']} | {inside} |"
        )
    api_p99 = max((e["p99"] for e in api.values()), default=0)
    lines.append("")
    lines.append(
        "Latencies as the clients saw them (locust); *server* is the time inside Django's middleware as the web logged it "
        "(without the event loop, the hand-off to a thread and the network). ¹ upload steps (S3 round trips; the target "
        "does not apply). ² hashes a password (PBKDF2, Django's default 1,000,000 iterations: about 0.5 s of CPU by design); "
        "the target does not apply."
    )
    lines.append("")
    turnaround = ws["turnaround_s"]
    failed_requests = stats["total_failures"]
    summary = [
        ("API requests/s (HTTP to daphne, window)", f"{api_requests / seconds:.1f}"),
        ("worst p99 of the other API endpoints", f"{api_p99:.0f} ms (target < {P99_TARGET_MS} ms)"),
        ("errors (failed requests + failed socket connects)", f"{failed_requests}"),
        (
            "sketches created in the window / all watched",
            f"{results['window'].get('created_in_window', 0)} / {len(results['all_watched'])}",
        ),
        ("sketches completed per minute (database, window)", f"{db['completed_per_minute']:.1f}"),
        (
            "create → final on the client, p50 / p95 / max",
            f"{fmt(turnaround['p50'], 2)} / {fmt(turnaround['p95'], 2)} / {fmt(turnaround['max'], 2)} s",
        ),
        ("final state reached the client by", ", ".join(f"{k}: {v}" for k, v in sorted(ws["final_via"].items())) or "–"),
        ("WebSocket messages lost (final update missing while connected)", f"{ws['lost_while_connected']}"),
        (
            "sketches never final on their client / active in the database",
            f"{len(ws['never_final'])} / {len(db['active_in_db'])}",
        ),
        ("database statuses", ", ".join(f"{k}: {v}" for k, v in sorted(db["statuses"].items()))),
        ("socket connects / closes / updates received", f"{ws['connects']} / {ws['closes']} / {ws['updates']}"),
        ("creates refused by the per-user cap (429, expected)", f"{results['create_refused_429']}"),
        ("PostgreSQL connections to the stack's database, max", f"{sampler.pg_max}"),
        ("drain after the window (all sketches final)", f"{results['drain_seconds']:.1f} s"),
    ]
    jobs = max(1, db["completed_total"])
    probe = meta.get("probe") or {}
    summary.insert(
        2,
        (
            "independent probe (this script, not locust: GET /api/auth/me 5/s): p50 / p99",
            f"{fmt(probe.get('p50'), 1)} / {fmt(probe.get('p99'), 1)} ms ({probe.get('n', 0)} requests, {probe.get('errors', 0)} errors)",
        ),
    )
    machine_all = max(1e-9, cpu.get("machine_all", 0))
    ours = sum(cpu.get(k, 0) for k in ("web", "workers", "redis", "s3", "locust"))
    summary.append(
        (
            "machine CPU busy in the window (both cores) / by the processes below",
            f"{cpu.get('machine_busy', 0) / machine_all * 100:.0f} % / {ours / machine_all * 100:.0f} % "
            "(the rest: PostgreSQL, this script, other work on the machine)",
        )
    )
    summary.append(
        (
            "CPU seconds in the window: web / 2 workers (+horses) / redis / S3 / locust",
            " / ".join(f"{cpu.get(k, 0):.1f}" for k in ("web", "workers", "redis", "s3", "locust")),
        )
    )
    summary.append(
        ("worker CPU per completed sketch (whole run incl. drain)", f"{meta['worker_cpu_total'] / jobs * 1000:.0f} ms")
    )
    summary.append(("web CPU per API request (window)", f"{cpu.get('web', 0) / max(1, api_requests) * 1000:.1f} ms"))
    lines.append("| figure | value |")
    lines.append("| --- | --- |")
    lines += [f"| {k} | {v} |" for k, v in summary]
    problems = []
    if failed_requests:
        problems.append(f"{failed_requests} failed requests: {stats['errors'][:5]}")
    if api_p99 >= P99_TARGET_MS:
        slow = {n: e["p99"] for n, e in api.items() if e["p99"] >= P99_TARGET_MS}
        problems.append(f"p99 over {P99_TARGET_MS} ms: {slow}")
    if ws["never_final"] or db["active_in_db"] or db["missing_from_db"]:
        problems.append(
            f"not final: clients {len(ws['never_final'])}, database active {len(db['active_in_db'])}, missing {len(db['missing_from_db'])}"
        )
    if api_requests / seconds < 50:
        problems.append(f"only {api_requests / seconds:.1f} API requests/s (want ≥ 50)")
    if results["window"]["sockets_min"] < 200:
        problems.append(f"only {results['window']['sockets_min']} sockets open at the low point (want ≥ 200)")
    return "\n".join(lines), problems


def write_section(path: Path, heading: str, body: str) -> None:
    """Replace (or append) the ``heading`` section of a Markdown file; other sections stay as they are."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = f"{heading}\n\n{body.strip()}\n\n"
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database",
        default=os.environ.get("LOAD_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL allowed to CREATE DATABASE",
    )
    parser.add_argument("--users", type=int, default=220, help="locust users, each holding one WebSocket")
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--duration", type=float, default=60, help="measured seconds, after every user is ready")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--newcomers", type=int, default=2, help="users that register a new account every --newcomer-pacing s")
    parser.add_argument("--newcomer-pacing", type=float, default=10)
    parser.add_argument("--create-weight", type=int, default=1, help="weight of 'create a sketch' among ~33 of other tasks")
    parser.add_argument("--output", type=Path, help="Markdown file whose '## Load' section gets the figures")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs)")
    parser.add_argument(
        "--web-processes", type=int, default=CPUS, help="daphne processes (default: one per core); the clients spread over them"
    )
    parser.add_argument(
        "--workers-idle", action="store_true", help="workers at SCHED_IDLE instead of nice 19 (workers 'elsewhere')"
    )
    parser.add_argument(
        "--worker-cpus",
        default="",
        help="comma-separated CPUs the workers may use (e.g. 1: the web has CPU 0 to itself, as with workers on their own machine)",
    )
    parser.add_argument("--heading", default="## Load", help="the Markdown section of --output to (re)write")
    parser.add_argument("--profile", type=Path, help="py-spy the web process during the window; raw stacks into this directory")
    parser.add_argument(
        "--settings", default="sketchsite.settings", help="DJANGO_SETTINGS_MODULE of every process (to try a fix)"
    )
    parser.add_argument("--web-settings", help="DJANGO_SETTINGS_MODULE of daphne only")
    parser.add_argument(
        "--pythonpath", default="", help="extra sys.path entries (os.pathsep-separated) for the stack's processes"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sketch-load-"))
    logs = work / "logs"
    logs.mkdir()
    meta = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0], "started": datetime.now(UTC).isoformat(timespec="seconds")}
    print(
        f"load test: {args.users} users + {args.newcomers} newcomers, {args.duration:.0f} s measured; logs in {logs}", flush=True
    )
    database_url, drop = scratch_database(args.database, "sketchload")
    s3 = SeaweedServer(str(work / "seaweed")).start()
    stack = None
    extra_webs = []
    code = 1
    try:
        pythonpath = os.pathsep.join([str(ROOT), *filter(None, args.pythonpath.split(os.pathsep))])
        env = production_env(database_url, work / "var", settings=args.settings, pythonpath=pythonpath)
        if args.web_settings:  # the workers keep --settings
            env["DJANGO_SETTINGS_MODULE"] = args.web_settings
        NicedStack.idle = args.workers_idle
        NicedStack.cpus = {int(c) for c in args.worker_cpus.split(",") if c.strip()} or None
        stack = NicedStack(
            env,
            s3,
            logs,
            workers=args.workers,
            worker_env={"DJANGO_SETTINGS_MODULE": args.settings},
            env={
                "MAX_CONCURRENT_TASKS": "50",  # per user; the scenario's users each have a few at once
                "TASK_TIMEOUT": "120",
                "JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "120",
                "MAX_FILE_SIZE": str(4 * 2**20),
            },
        )
        stack.manage("migrate", "--noinput")
        accounts = work / "accounts.json"
        stack.manage(
            "shell", "-c", SEED.format(password=PASSWORD, tag=uuid.uuid4().hex[:6], count=args.users + 1, path=str(accounts))
        )
        stack.start()
        for i in range(args.web_processes - 1):  # more daphne processes; the clients spread over them (a balancer's job)
            extra_webs.append(daphne(stack.env, logs, name=f"daphne-extra-{i + 1}"))
        hosts = [stack.url] + [f"http://127.0.0.1:{port}" for _, port in extra_webs]
        print(
            f"stack up: {stack.url} (daphne pid {stack.web.pid}; workers {[w.pid for w in stack.workers]}; redis :{stack.redis_port}; S3 {s3.endpoint})",
            flush=True,
        )

        results_path = work / "results.json"
        ramp = args.users / args.spawn_rate
        locust_env = {
            **os.environ,
            "LOAD_ACCOUNTS": str(accounts),
            "LOAD_RESULTS": str(results_path),
            "LOAD_DURATION": str(args.duration),
            "LOAD_NEWCOMERS": str(args.newcomers),
            "LOAD_NEWCOMER_PACING": str(args.newcomer_pacing),
            "LOAD_CREATE_WEIGHT": str(args.create_weight),
            "PYTHONPATH": str(ROOT),
            "LOAD_HOSTS": ",".join(hosts),
        }
        command = [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "load" / "locustfile.py"),
            "--headless",
            "-u",
            str(args.users + args.newcomers),
            "-r",
            str(args.spawn_rate),
            "-t",
            f"{int(args.duration + ramp + 150)}s",
            "--host",
            stack.url,
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "5",
            "--exit-code-on-error",
            "0",
        ]
        locust = subprocess.Popen(
            command, cwd=ROOT, env=locust_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        processes = {"web": stack.web.pid, "redis": stack.redis.pid, "s3": s3.process.pid, "locust": locust.pid}
        for i, (web, _) in enumerate(extra_webs):
            processes[f"web{i + 2}"] = web.pid
        for i, worker in enumerate(stack.workers):
            processes[f"worker{i}"] = worker.pid
        sampler = Sampler(database_url, processes)
        probe = Probe(stack.url, json.loads(accounts.read_text())[-1]["token"])
        marks = {"start": sampler.cpu_seconds()}
        sampler.start()
        timer = threading.Timer(args.duration + ramp + 150 + 240, locust.kill)  # bounded, whatever happens
        timer.start()
        # The locustfile announces the window's start and end: take the CPU counters there.
        for line in locust.stdout:
            print(line, end="", flush=True)
            if line.startswith("[load]") and "measuring" in line:
                marks["window_start"] = sampler.cpu_seconds()
                probe.start()
                if args.profile:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    subprocess.Popen(
                        [
                            str(BIN / "py-spy"),
                            "record",
                            "--pid",
                            str(stack.web.pid),
                            "--duration",
                            str(int(args.duration)),
                            "--rate",
                            "50",
                            "--nonblocking",
                            "--gil",
                            "--format",
                            "raw",
                            "--output",
                            str(args.profile / "web.txt"),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
            elif line.startswith("[load] window over"):
                marks["window_end"] = sampler.cpu_seconds()
                probe.stop_event.set()
        locust.wait()
        timer.cancel()
        marks["end"] = sampler.cpu_seconds()
        sampler.stop_event.set()
        if not results_path.exists():
            raise RuntimeError(f"locust exited with {locust.returncode} and wrote no results")
        results = json.loads(results_path.read_text())

        def delta(a, b):
            out = {k: marks[b].get(k, 0) - marks[a].get(k, 0) for k in marks[b]}
            out["workers"] = sum(v for k, v in out.items() if k.startswith("worker"))
            out["web"] = sum(v for k, v in out.items() if k.startswith("web"))
            return out

        cpu = delta("window_start", "window_end") if "window_end" in marks else delta("start", "end")
        probe.stop_event.set()
        meta["probe"] = {
            "n": len(probe.times),
            "p50": percentile(probe.times, 0.5),
            "p99": percentile(probe.times, 0.99),
            "errors": probe.errors,
        }
        meta["worker_cpu_total"] = delta("start", "end")["workers"]
        db = verify_database(database_url, results)
        web_logs = "\n".join([stack.web.output()] + [web.output() for web, _ in extra_webs])
        watch_errors = []
        for line in web_logs.splitlines():
            if '"severity": "ERROR"' in line or '"status_code": 5' in line:
                try:
                    entry = json.loads(line)
                    watch_errors.append(
                        f"{entry.get('message', '')[:120]} — {entry.get('traceback', '').strip().splitlines()[-1][:200] if entry.get('traceback') else ''}"
                    )
                except ValueError:
                    watch_errors.append(line[:300])
        server = server_times(web_logs, results["window"]["start_wall"], results["window"]["end_wall"])
        body, problems = report(results, db, cpu, sampler, args, meta, server)
        if watch_errors:
            kinds: dict[str, int] = {}
            for error in watch_errors:
                kinds[error] = kinds.get(error, 0) + 1
            top = sorted(kinds.items(), key=lambda kv: -kv[1])[:4]
            problems.append(f"the web logged {len(watch_errors)} errors: " + "; ".join(f"{n}× {e}" for e, n in top))
        print("\n" + body + "\n")
        print(
            f"database: {db['rows']} sketches {db['statuses']}; missing {len(db['missing_from_db'])}; active {len(db['active_in_db'])}; "
            f"failed {db['failed'][:5]}"
        )
        if problems:
            print("TARGETS MISSED:\n  " + "\n  ".join(problems))
        else:
            print("all targets met")
        if args.output:
            text = (
                f"`make load` ({meta['started']}): `load/run_load.py --users {args.users} --duration {args.duration:.0f}`.\n\n"
                + body
            )
            if problems:
                text += "\n\nTargets missed in this run:\n" + "\n".join(f"- {p}" for p in problems)
            write_section(args.output, args.heading, text)
            print(f"wrote the '{args.heading}' section of {args.output}")
        (work / "summary.json").write_text(
            json.dumps({"results": results, "db": db, "cpu": cpu, "pg_max": sampler.pg_max}, default=str, indent=1)
        )
        code = 1 if problems else 0
    finally:
        for web, _ in extra_webs:
            web.stop(1)
        if stack is not None:
            stack.stop()
        s3.stop()
        drop()
        if not args.keep and code == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"logs kept in {work}")
    return code


if __name__ == "__main__":
    sys.exit(main())
