"""Big request bodies sent as an attacker sends them, while ``/health`` is timed and the web's memory watched.

Used by tests/security/test_body_limits.py and bench/body_flood.py. Bodies go over raw sockets
from a reused block, so the sender holds no more than one block in memory whatever the size.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import requests

MB = 1024 * 1024
BLOCK = MB
ROOT = Path(__file__).resolve().parents[2]


def request_head(path: str, port: int, content_type: str, length: int | None, extra: dict | None = None) -> bytes:
    """The request line and headers of a POST: ``Content-Length`` when ``length`` is given, chunked otherwise."""
    headers = {"Host": f"127.0.0.1:{port}", "Content-Type": content_type}
    headers.update({"Content-Length": str(length)} if length is not None else {"Transfer-Encoding": "chunked"})
    headers.update(extra or {})
    lines = [f"POST {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


@dataclass
class Answer:
    status: int | None  # None: the connection ended without a status line
    head: bytes  # status line and headers
    body: bytes
    sent: int  # body bytes the server took before it answered or closed
    seconds: float


def read_answer(sock: socket.socket, timeout: float) -> tuple[int | None, bytes, bytes]:
    """Read one response (until the peer closes or ``Content-Length`` is reached)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:] if line.lower().startswith(b"content-length:")),
            None,
        )
        while length is not None and len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except (ConnectionError, TimeoutError, OSError):
        head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    status = int(parts[1]) if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit() else None
    return status, head, body


def body_pieces(size: int, filler: bytes, prefix: bytes = b"", suffix: bytes = b""):
    """``size`` bytes in blocks: ``prefix``, then ``filler`` repeated, then ``suffix``."""
    block = (filler * (BLOCK // len(filler) + 1))[:BLOCK]
    middle = size - len(prefix) - len(suffix)
    if prefix:
        yield prefix
    while middle > 0:
        piece = block[: min(BLOCK, middle)]
        middle -= len(piece)
        yield piece
    if suffix:
        yield suffix


def post_body(
    port: int,
    path: str,
    size: int,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    chunked: bool = False,
    filler: bytes = b"a&",
    prefix: bytes = b"",
    suffix: bytes = b"",
    timeout: float = 60,
) -> Answer:
    """POST ``size`` bytes (``prefix`` + filler + ``suffix``) and read the answer.

    The whole body is sent unless the server closes first: a server that answers early and keeps
    reading lets the client finish and then read the answer, as a browser would.
    """
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request_head(path, port, content_type, None if chunked else size))
        try:
            for piece in body_pieces(size, filler, prefix, suffix):
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (ConnectionError, TimeoutError, OSError):
            pass  # the server closed: read whatever it answered
        status, head, body = read_answer(sock, timeout)
    return Answer(status, head, body, sent, time.monotonic() - started)


def ask_first(port: int, path: str, size: int, content_type: str, timeout: float = 10, extra: dict | None = None) -> Answer:
    """Send the headers of a ``size``-byte POST and no body: what does the server answer before it has any?"""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request_head(path, port, content_type, size, extra))
        status, head, body = read_answer(sock, timeout)
    return Answer(status, head, body, 0, time.monotonic() - started)


class PeakRSS:
    """``with PeakRSS(pid) as rss:`` samples a process's RSS every 20 ms; ``rss.growth_mb`` after."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.before = self.peak = self.process.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.05)
        self._done.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / MB


# ----------------------------------------------------------------------------- the flood
@dataclass
class FloodReport:
    answers: list[Answer] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    idle_ms: list[float] = field(default_factory=list)  # /health before the flood, the same way
    health_statuses: list[int | None] = field(default_factory=list)
    rss_before: int = 0
    rss_peak: int = 0
    seconds: float = 0.0
    aborted: str = ""  # why the flood was cut short (the server's memory past the safety cap)
    health_path: str = "/health"

    @property
    def rss_growth_mb(self) -> float:
        return (self.rss_peak - self.rss_before) / MB

    def percentile(self, fraction: float, idle: bool = False) -> float:
        ordered = sorted(self.idle_ms if idle else self.health_ms)
        if not ordered:
            return float("inf")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def median(self, idle: bool = False) -> float:
        samples = self.idle_ms if idle else self.health_ms
        return statistics.median(samples) if samples else float("inf")

    def summary(self) -> str:
        statuses = {status: [a.status for a in self.answers].count(status) for status in {a.status for a in self.answers}}
        median = statistics.median(self.health_ms) if self.health_ms else float("nan")
        idle = (
            f"idle {self.health_path}: p50 {statistics.median(self.idle_ms):.1f} ms, p99 {self.percentile(0.99, idle=True):.1f} ms; "
            if self.idle_ms
            else ""
        )
        return idle + (
            f"{len(self.answers)} bodies in {self.seconds:.1f} s, answers {statuses} (status: count); "
            f"{self.health_path}: {len(self.health_ms)} probes, p50 {median:.1f} ms, p99 {self.percentile(0.99):.1f} ms, "
            f"max {max(self.health_ms, default=float('inf')):.1f} ms, statuses {sorted(set(self.health_statuses), key=str)}; "
            f"RSS {self.rss_before / MB:.0f} -> {self.rss_peak / MB:.0f} MB (+{self.rss_growth_mb:.0f} MB)"
            + (f"; ABORTED: {self.aborted}" if self.aborted else "")
        )


def flood(
    port: int,
    pid: int,
    *,
    clients: int = 4,
    size: int = 200 * MB,
    path: str = "/nothing",
    content_type: str = "application/x-www-form-urlencoded",
    chunked: bool = False,
    filler: bytes = b"a&",
    prefix: bytes = b"",
    health_path: str = "/health",
    probe_every: float = 0.05,
    rss_cap: int = 3 * 1024 * MB,
    timeout: float = 120,
    duration: float = 0,
    baseline: float = 0,
) -> FloodReport:
    """``clients`` concurrent POSTs of ``size`` bytes while ``/health`` is asked every ``probe_every`` s.

    Each client posts again as soon as it has its answer, until ``duration`` seconds have passed.
    ``/health`` is first timed for ``baseline`` seconds without a flood, for comparison.

    A probe that gets no answer counts as the time it waited. Past ``rss_cap`` the server is
    killed (the caller restarts it if needed) so that a server that buffers bodies cannot take the
    machine down with it.
    """
    process = psutil.Process(pid)
    report = FloodReport(rss_before=process.memory_info().rss, health_path=health_path)
    report.rss_peak = report.rss_before
    session = requests.Session()
    health_url = f"http://127.0.0.1:{port}{health_path}"
    idle_until = time.monotonic() + baseline
    while time.monotonic() < idle_until:
        asked = time.monotonic()
        session.get(health_url, timeout=timeout)
        report.idle_ms.append((time.monotonic() - asked) * 1000)
        time.sleep(probe_every)
    done = threading.Event()
    started = time.monotonic()

    def prober():
        while not done.is_set():
            asked = time.monotonic()
            try:
                status = session.get(health_url, timeout=timeout).status_code
            except requests.RequestException:
                status = None
            report.health_ms.append((time.monotonic() - asked) * 1000)
            report.health_statuses.append(status)
            time.sleep(probe_every)

    def watcher():
        while not done.is_set():
            try:
                rss = process.memory_info().rss
            except psutil.NoSuchProcess:
                return
            report.rss_peak = max(report.rss_peak, rss)
            if rss > rss_cap:
                report.aborted = f"web RSS {rss / MB:.0f} MB passed the {rss_cap / MB:.0f} MB safety cap"
                process.kill()
                return
            time.sleep(0.02)

    # Each attacker is its own process (as it would be its own machine), at the lowest CPU
    # priority: threads here would hold this process's GIL against the /health probe.
    command = [sys.executable, "-m", "tests.support.flood", str(port), path, str(size), content_type, str(duration)]
    command += ["--chunked"] if chunked else []
    command += ["--filler", filler.hex(), "--prefix", prefix.hex(), "--timeout", str(timeout)]
    helpers = [threading.Thread(target=prober, daemon=True), threading.Thread(target=watcher, daemon=True)]
    for thread in helpers:
        thread.start()
    senders = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE) for _ in range(clients)]
    for sender in senders:
        try:
            out, _ = sender.communicate(timeout=duration + timeout + 60)
        except subprocess.TimeoutExpired:  # a server that never answers
            sender.kill()
            sender.communicate()
            report.answers.append(Answer(None, b"no answer", b"", 0, time.monotonic() - started))
            continue
        report.answers += [
            Answer(a["status"], bytes.fromhex(a["head"]), bytes.fromhex(a["body"]), a["sent"], a["seconds"])
            for a in json.loads(out)
        ]
    report.seconds = time.monotonic() - started
    time.sleep(0.3)  # a last probe and RSS sample after the bodies
    done.set()
    for thread in helpers:
        thread.join(timeout + 5)
    return report


def attack(port, path, size, content_type, duration, *, chunked, filler, prefix, timeout) -> list[Answer]:
    """One attacker: post again as soon as answered or cut off, until ``duration`` s have passed."""
    answers = []
    started = time.monotonic()
    while not answers or time.monotonic() - started < duration:
        try:
            answers.append(
                post_body(
                    port, path, size, content_type=content_type, chunked=chunked, filler=filler, prefix=prefix, timeout=timeout
                )
            )
        except OSError as exc:
            answers.append(Answer(None, repr(exc).encode(), b"", 0, 0.0))
    return answers


def main() -> None:
    """``python -m tests.support.flood PORT PATH SIZE CONTENT_TYPE DURATION``: one attacker; its answers as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    parser.add_argument("size", type=int)
    parser.add_argument("content_type")
    parser.add_argument("duration", type=float)
    parser.add_argument("--chunked", action="store_true")
    parser.add_argument("--filler", default=b"a&".hex())
    parser.add_argument("--prefix", default="")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    os.nice(19)
    answers = attack(
        args.port,
        args.path,
        args.size,
        args.content_type,
        args.duration,
        chunked=args.chunked,
        filler=bytes.fromhex(args.filler),
        prefix=bytes.fromhex(args.prefix),
        timeout=args.timeout,
    )
    rows = [{**asdict(a), "head": a.head.hex(), "body": a.body.hex()} for a in answers]
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
