"""Big request bodies sent as an attacker sends them, while ``/health`` is timed and the web's memory watched.

Used by tests/security/test_body_limits.py and bench/body_flood.py. Bodies go over raw sockets
from a reused block, so the sender holds no more than one block in memory whatever the size.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from dataclasses import dataclass, field

import psutil
import requests

MB = 1024 * 1024
BLOCK = MB


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


# ----------------------------------------------------------------------------- the flood
@dataclass
class FloodReport:
    answers: list[Answer] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    health_statuses: list[int | None] = field(default_factory=list)
    rss_before: int = 0
    rss_peak: int = 0
    seconds: float = 0.0
    aborted: str = ""  # why the flood was cut short (the server's memory past the safety cap)

    @property
    def rss_growth_mb(self) -> float:
        return (self.rss_peak - self.rss_before) / MB

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.health_ms)
        if not ordered:
            return float("inf")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> str:
        statuses = [a.status for a in self.answers]
        median = statistics.median(self.health_ms) if self.health_ms else float("nan")
        return (
            f"{len(self.answers)} bodies in {self.seconds:.1f} s, answers {statuses}; "
            f"/health: {len(self.health_ms)} probes, p50 {median:.1f} ms, p99 {self.percentile(0.99):.1f} ms, "
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
) -> FloodReport:
    """``clients`` concurrent POSTs of ``size`` bytes while ``/health`` is asked every ``probe_every`` s.

    A probe that gets no answer counts as the time it waited. Past ``rss_cap`` the server is
    killed (the caller restarts it if needed) so that a server that buffers bodies cannot take the
    machine down with it.
    """
    process = psutil.Process(pid)
    report = FloodReport(rss_before=process.memory_info().rss)
    report.rss_peak = report.rss_before
    done = threading.Event()

    def sender():
        try:
            answer = post_body(
                port, path, size, content_type=content_type, chunked=chunked, filler=filler, prefix=prefix, timeout=timeout
            )
        except OSError as exc:
            answer = Answer(None, repr(exc).encode(), b"", 0, 0.0)
        report.answers.append(answer)

    def prober():
        session = requests.Session()
        while not done.is_set():
            started = time.monotonic()
            try:
                status = session.get(f"http://127.0.0.1:{port}{health_path}", timeout=timeout).status_code
            except requests.RequestException:
                status = None
            report.health_ms.append((time.monotonic() - started) * 1000)
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

    started = time.monotonic()
    helpers = [threading.Thread(target=prober, daemon=True), threading.Thread(target=watcher, daemon=True)]
    senders = [threading.Thread(target=sender, daemon=True) for _ in range(clients)]
    for thread in helpers + senders:
        thread.start()
    for thread in senders:
        thread.join(timeout + 30)
    report.seconds = time.monotonic() - started
    time.sleep(0.3)  # a last probe and RSS sample after the bodies
    done.set()
    for thread in helpers:
        thread.join(timeout + 5)
    return report
