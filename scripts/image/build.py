"""Build the service's image from the Dockerfile, on the base ``base.choose_base`` picks."""

from __future__ import annotations

import time
from pathlib import Path

from .engine import Engine
from .pip_settings import host_pip_settings, proxy_build_args

ROOT = Path(__file__).resolve().parents[2]


def build_image(engine: Engine, tag: str, base: str, work_dir: Path, log) -> float:
    """``build --network host`` (the build's pip uses the host's network and proxy); returns seconds."""
    pip = host_pip_settings()
    args = [
        "build",
        "--network",
        "host",
        "--build-arg",
        f"BASE_IMAGE={base}",
        *proxy_build_args(),
        *pip.secrets(work_dir / "pip.conf"),
        "--tag",
        tag,
        "--file",
        str(ROOT / "Dockerfile"),
        str(ROOT),
    ]
    log(f"{engine.name} build --tag {tag} (base {base}) …")
    build_log = work_dir / "build.log"
    build_log.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        engine.run(*args, log=build_log)
    finally:
        (work_dir / "pip.conf").unlink(missing_ok=True)
    return time.monotonic() - started
