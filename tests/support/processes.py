"""Real processes for the tests: daphne, RQ workers, redis-server, each on its own port."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}:\n{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


class Managed:
    """A child process in its own session, with its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path, cwd: Path = ROOT):
        self.name, self.command, self.env, self.cwd = name, command, env, cwd
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Managed":
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig) -> None:
        if self.alive():
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.process:
            self.process.wait(10)

    def stop(self, grace: float = 5) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def base_env(**overrides) -> dict:
    """The environment of a child process: this one's, minus what the child must not inherit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))}
    env.update({"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    env.update({k: str(v) for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        env.pop(key, None)
    return env


# The web as deployed: daphne's command line with the bounded HTTP server (sketchsite/serve.py).
WEB_COMMAND = [sys.executable, "-m", "sketchsite.serve"]


def daphne(env: dict, log_dir: Path, port: int | None = None, name: str = "daphne") -> tuple[Managed, int]:
    port = port or free_port()
    server = Managed(
        name, [*WEB_COMMAND, "-v", "0", "-b", "127.0.0.1", "-p", str(port), "sketchsite.asgi:application"], env, log_dir
    )
    server.start()
    wait_for_port(port, 60, server.process, server.log_path)
    return server, port


def rq_worker(env: dict, log_dir: Path, name: str = "worker", burst: bool = False) -> Managed:
    command = [sys.executable, "manage.py", "sketchworker"] + (["--burst"] if burst else [])
    return Managed(name, command, env, log_dir).start()


def redis_server(port: int, log_dir: Path, name: str = "redis") -> Managed:
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(log_dir),
    ]
    server = Managed(name, command, os.environ.copy(), log_dir).start()
    wait_for_port(port, 20, server.process, server.log_path)
    return server
