"""The base image: the Dockerfile's own (``python:3.11-slim``) when its registry answers, else a
local stand-in made from Debian packages.

The stand-in is Debian bookworm's python3 (3.11, as in the official image) installed by
``debootstrap --variant=minbase`` from the mirror apt already uses, trimmed the way Debian's
slim images are (no docs, man pages, locales or apt lists), then imported as an image. It is
kept between runs: only a machine without it pays the ~1 min of debootstrap.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .engine import Engine, EngineError

ROOT = Path(__file__).resolve().parents[2]
LOCAL_BASE = "localhost/sketch-base:bookworm"
SUITE = "bookworm"
PACKAGES = "python3,python3-venv,python-is-python3,ca-certificates,netbase,tzdata"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# What Debian's slim images leave out (their dpkg path-exclude list), minus the copyright files.
SLIM_EXCLUDES = (
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
    "/usr/share/lintian/*",
    "/usr/share/linda/*",
)
SLIM_INCLUDES = ("/usr/share/doc/*/copyright",)


def dockerfile_base(dockerfile: Path = ROOT / "Dockerfile") -> str:
    """The default of the Dockerfile's ``ARG BASE_IMAGE``."""
    match = re.search(r"^ARG BASE_IMAGE=(\S+)", dockerfile.read_text(), re.MULTILINE)
    if not match:
        raise EngineError(f"{dockerfile} has no `ARG BASE_IMAGE=…` default")
    return match.group(1)


def registry_url(image: str) -> str:
    """The registry API root of an image reference (Docker Hub for short names)."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        host = first
    else:
        host = "registry-1.docker.io"
    return f"https://{host}/v2/"


def registry_reachable(image: str, timeout: float = 5) -> bool:
    """Whether the image's registry answers at all (401 is an answer: it wants a token)."""
    try:
        urllib.request.urlopen(registry_url(image), timeout=timeout)
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian archive apt already uses (deb822 .sources or one-line sources.list), else deb.debian.org."""
    if os.environ.get("DEBIAN_MIRROR"):
        return os.environ["DEBIAN_MIRROR"]
    for path in sorted(apt_dir.glob("sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.+)$", stanza, re.MULTILINE))
            suites = fields.get("Suites", "").split()
            if SUITE in suites and fields.get("Types", "deb").split()[0] == "deb":
                return fields["URIs"].split()[0]
    for path in [apt_dir / "sources.list", *sorted(apt_dir.glob("sources.list.d/*.list"))]:
        if path.exists():
            for line in path.read_text().splitlines():
                parts = re.sub(r"\[[^]]*\]", "", line).split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                    return parts[1]
    return DEFAULT_MIRROR


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def slim_rootfs(rootfs: Path) -> None:
    """Trim a fresh rootfs like Debian's slim images, and keep later apt installs trimmed too."""
    config = rootfs / "etc/dpkg/dpkg.cfg.d/slim"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "".join(f"path-exclude {p}\n" for p in SLIM_EXCLUDES) + "".join(f"path-include {p}\n" for p in SLIM_INCLUDES)
    )
    share = rootfs / "usr/share"
    for name in ("man", "info", "locale", "lintian", "linda"):
        for child in (share / name).glob("*"):
            _remove(child)
    for package in (share / "doc").glob("*"):
        if package.is_dir() and not package.is_symlink():
            for item in package.iterdir():
                if item.name != "copyright":
                    _remove(item)
    apt_cache, apt_lists = rootfs / "var/cache/apt", rootfs / "var/lib/apt/lists"
    for item in [*apt_cache.glob("archives/*.deb"), *apt_cache.glob("*.bin"), *apt_lists.glob("*")]:
        if item.is_file() and item.name != "lock":
            item.unlink()


def build_local_base(engine: Engine, work_dir: Path, log) -> dict[str, float]:
    """debootstrap → trim → import as LOCAL_BASE; returns the seconds each step took."""
    if os.geteuid() != 0:
        raise EngineError("building the local base needs root (debootstrap)")
    if not shutil.which("debootstrap"):
        raise EngineError("debootstrap is missing: apt-get install -y debootstrap")
    rootfs = work_dir / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    timings: dict[str, float] = {}
    try:
        log(f"debootstrap {SUITE} from {mirror} …")
        started = time.monotonic()
        with open(work_dir / "debootstrap.log", "w") as output:
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(rootfs), mirror],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if result.returncode:
            raise EngineError(f"debootstrap failed ({result.returncode}); see {work_dir / 'debootstrap.log'}")
        slim_rootfs(rootfs)
        timings["debootstrap"] = time.monotonic() - started

        started = time.monotonic()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            engine.command("import", "--change", 'CMD ["python3"]', "-", LOCAL_BASE),
            stdin=tar.stdout,
            env=engine.env,
            capture_output=True,
            text=True,
        )
        tar.stdout.close()
        if tar.wait() or imported.returncode:
            raise EngineError(f"importing the base failed: {imported.stderr[-2000:]}")
        timings["base import"] = time.monotonic() - started
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return timings


def choose_base(engine: Engine, work_dir: Path, log) -> tuple[str, dict[str, float]]:
    """``BASE_IMAGE`` when set; the Dockerfile's base when present or reachable; else the local one
    (built once, then reused)."""
    if os.environ.get("BASE_IMAGE"):
        return os.environ["BASE_IMAGE"], {}
    official = dockerfile_base()
    if engine.image_exists(official):
        return official, {}
    if registry_reachable(official):
        log(f"base: {official} (its registry answers)")
        return official, {}
    if engine.image_exists(LOCAL_BASE):
        log(f"base: {LOCAL_BASE} (no registry reachable; built earlier)")
        return LOCAL_BASE, {}
    log(f"base: building {LOCAL_BASE} (no registry reachable for {official})")
    return LOCAL_BASE, build_local_base(engine, work_dir, log)
