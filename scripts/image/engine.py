"""The container engine that builds and runs the image: podman, or docker where its daemon answers.

Podman runs rootful with the settings this kind of machine needs (``runc``: crun refuses
"cgroups in hybrid mode"; ``cgroupfs``; ulimits no higher than the hard limits we have, since
raising them fails with "setrlimit RLIMIT_NOFILE: Operation not permitted"). They go in a
``containers.conf`` of our own, named by ``CONTAINERS_CONF``, so nothing under /etc changes. A
``CONTAINERS_CONF`` already in the environment wins.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class EngineError(RuntimeError):
    """No usable engine, or an engine command failed."""


def containers_conf(nofile_hard: int) -> str:
    return (
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile_hard}:{nofile_hard}", "nproc=32768:32768"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )


@dataclass
class Engine:
    name: str  # "podman" or "docker"
    env: dict = field(default_factory=lambda: dict(os.environ))

    def command(self, *args: str) -> list[str]:
        return [self.name, *args]

    def run(
        self, *args: str, check: bool = True, timeout: float | None = None, env: dict | None = None, log: Path | None = None
    ) -> subprocess.CompletedProcess:
        """Run an engine command; its output is captured, or appended to ``log`` (long builds)."""
        with open(log, "a") if log else open(os.devnull) as sink:
            result = subprocess.run(
                self.command(*args),
                env={**self.env, **(env or {})},
                stdout=sink if log else subprocess.PIPE,
                stderr=subprocess.STDOUT if log else subprocess.PIPE,
                text=True,
                timeout=timeout,
            )
        if check and result.returncode:
            detail = Path(log).read_text(errors="replace")[-4000:] if log else (result.stderr or result.stdout or "")[-3000:]
            raise EngineError(f"{self.name} {' '.join(args[:3])} … exited with {result.returncode}\n{detail}")
        return result

    def image_exists(self, ref: str) -> bool:
        return self.run("image", "inspect", "--format", "{{.Id}}", ref, check=False).returncode == 0

    def image_id(self, ref: str) -> str:
        return self.run("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip().removeprefix("sha256:")

    def image_size(self, ref: str) -> int:
        """Bytes, as the engine reports them (uncompressed, every layer)."""
        return int(self.run("image", "inspect", "--format", "{{.Size}}", ref).stdout.strip())

    def image_ids(self) -> set[str]:
        """Every image (intermediate ones too), by full id."""
        output = self.run("images", "--all", "--quiet", "--no-trunc").stdout
        return {line.strip().removeprefix("sha256:") for line in output.splitlines() if line.strip()}

    def remove_images(self, ids: set[str]) -> None:
        """Remove these images. One call takes most (an image's children go before it); what a
        parent-before-child order left behind goes in further passes."""
        pending = set(ids)
        while pending:
            self.run("rmi", "--force", *sorted(pending), check=False)
            left = pending & self.image_ids()
            if left == pending:
                raise EngineError(f"could not remove images: {sorted(pending)}")
            pending = left


def detect(work_dir: Path) -> Engine:
    """``CONTAINER_ENGINE`` when set; else podman when installed; else docker when its daemon answers."""
    wanted = os.environ.get("CONTAINER_ENGINE", "").strip()
    if wanted not in ("", "podman", "docker"):
        raise EngineError(f"CONTAINER_ENGINE must be podman or docker, not {wanted!r}")
    if wanted == "docker" or (not wanted and not shutil.which("podman") and shutil.which("docker")):
        engine = Engine("docker")
        if engine.run("info", check=False).returncode:
            raise EngineError("docker is installed but its daemon does not answer (docker info failed)")
        return engine
    if not shutil.which("podman"):
        raise EngineError("neither podman nor docker is installed: apt-get install -y podman runc")
    env = dict(os.environ)
    if not env.get("CONTAINERS_CONF"):
        work_dir.mkdir(parents=True, exist_ok=True)
        conf = work_dir / "containers.conf"
        conf.write_text(containers_conf(resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        env["CONTAINERS_CONF"] = str(conf)
    return Engine("podman", env)
