"""The image: the Dockerfile's structure, and its entry point run here (no Docker engine needed).

The structure test reads the Dockerfile the way the builder does (dockerfile-parse); the
entry-point tests run docker/entrypoint.sh with this virtualenv's bin/ on PATH, as the image
runs it with /opt/venv/bin on PATH.
"""

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from dockerfile_parse import DockerfileParser

from tests.support.processes import ROOT, Managed, free_port, wait_for_port

from .conftest import long_secret, production_env

DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
SECRETISH = re.compile(r"(?i)(secret|password|passwd|token|private|credential|api_key|access_key)")


@pytest.fixture(scope="module")
def dockerfile():
    return DockerfileParser(path=str(DOCKERFILE))


def instructions(parser, name: str) -> list[dict]:
    return [i for i in parser.structure if i["instruction"] == name]


def stages(parser) -> list[list[dict]]:
    result: list[list[dict]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


# ----------------------------------------------------------------------------- structure
def test_multi_stage_on_python_311_slim(dockerfile):
    assert dockerfile.is_multistage
    assert dockerfile.parent_images == ["python:3.11-slim", "python:3.11-slim"], "the official slim image by default"
    runtime = stages(dockerfile)[-1]
    copies = [i["value"] for i in runtime if i["instruction"] == "COPY"]
    assert any(c.startswith("--from=build /opt/venv") for c in copies), "the runtime stage takes the built virtualenv"
    # Nothing is compiled or fetched by apt in the runtime stage: opencv-headless needs nothing extra.
    assert not any("apt-get install" in i["value"] for i in runtime if i["instruction"] == "RUN")


def test_the_base_is_a_build_argument(dockerfile):
    """A local base stands in where no registry answers (make image): both stages follow it."""
    assert DockerfileParser(path=str(DOCKERFILE), build_args={"BASE_IMAGE": "localhost/sketch-base:bookworm"}).parent_images == [
        "localhost/sketch-base:bookworm",
        "localhost/sketch-base:bookworm",
    ]
    build = stages(dockerfile)[0]
    # Debian's python3 lives in /usr/bin, the official image's in /usr/local/bin: only `python3` is in both.
    assert any(i["value"].startswith("python3 -m venv /opt/venv") for i in build if i["instruction"] == "RUN")


def test_build_secrets_stay_out_of_the_image(dockerfile):
    """The host's CA bundle and pip settings reach the install step as secret mounts, not ARG/ENV/COPY."""
    build, runtime = stages(dockerfile)
    install = next(i["value"] for i in build if i["instruction"] == "RUN" and "pip install" in i["value"])
    assert "--mount=type=secret,id=pip_ca,required=false" in install
    assert "--mount=type=secret,id=pip_conf,required=false" in install
    assert "--no-compile" in install and "prune-venv.sh /opt/venv" in install
    assert not any("pip" in i["value"].lower() for i in runtime if i["instruction"] in ("ENV", "ARG"))


def test_runs_as_a_non_root_user(dockerfile):
    users = instructions(dockerfile, "USER")
    assert users, "the image must drop root"
    final_user = users[-1]["value"].split(":")[0]
    assert final_user not in ("root", "0")
    runtime = stages(dockerfile)[-1]
    assert runtime.index(users[-1]) > max(runtime.index(i) for i in runtime if i["instruction"] in ("RUN", "COPY"))
    assert any("useradd" in i["value"] and final_user in i["value"] for i in runtime if i["instruction"] == "RUN")


def test_static_files_are_collected_at_build_time_without_baked_secrets(dockerfile):
    build, runtime = stages(dockerfile)
    collect = [i["value"] for i in build if i["instruction"] == "RUN" and "collectstatic" in i["value"]]
    assert len(collect) == 1, "collected once, in the build stage, where the packages' static sources are"
    assert "secrets.token_urlsafe" in collect[0], "the build-time secret is random and lives only in that command"
    copies = [i["value"] for i in runtime if i["instruction"] == "COPY"]
    assert "--from=build /app/var/staticfiles /app/var/staticfiles" in copies
    warm = [i["value"] for i in runtime if i["instruction"] == "RUN" and "warm_bytecode.py" in i["value"]]
    assert len(warm) == 1 and "secrets.token_urlsafe" in warm[0]
    for instruction in instructions(dockerfile, "ENV") + instructions(dockerfile, "ARG") + instructions(dockerfile, "LABEL"):
        assert not SECRETISH.search(instruction["value"]), f"secret-like setting baked into the image: {instruction['content']}"
    assert "DEBUG" not in dockerfile.envs or dockerfile.envs["DEBUG"].lower() in ("0", "false")


def test_entrypoint_port_and_roles(dockerfile):
    entry = instructions(dockerfile, "ENTRYPOINT")
    assert len(entry) == 1
    assert json.loads(entry[0]["value"]) == ["/app/docker/entrypoint.sh"], "exec form, pointing at the role script"
    assert json.loads(instructions(dockerfile, "CMD")[-1]["value"]) == [], "no base-image CMD leaks in as a role"
    assert dockerfile.envs["PORT"] == "8080"
    assert instructions(dockerfile, "EXPOSE")[-1]["value"] == "8080"
    assert dockerfile.envs["ROLE"] == "web"
    script = ENTRYPOINT.read_text()
    assert ENTRYPOINT.stat().st_mode & 0o111, "entrypoint.sh must be executable"
    assert re.search(r'exec python -m sketchsite\.serve -v 0 -b "\$\{HOST:-0\.0\.0\.0\}" -p "\$port"', script), (
        "daphne (bounded bodies) on $PORT, access log off"
    )
    assert "exec python manage.py sketchworker" in script
    assert "exec python manage.py migrate --noinput" in script


def test_dockerignore_keeps_secrets_and_junk_out():
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")
    }
    for pattern in (".git", ".venv", ".env", "var", "tests", "**/__pycache__"):
        assert pattern in ignored


def build_time_collectstatic(dockerfile, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    """Run the Dockerfile's own collectstatic line (up to its first &&) here, with a scratch VAR_DIR
    and none of the secrets: the build has none."""
    run = next(i["value"] for i in instructions(dockerfile, "RUN") if "collectstatic" in i["value"])
    command = run.split("&&")[0].strip() + "".join(f" {shlex.quote(arg)}" for arg in extra)
    env = production_env(
        VAR_DIR=str(tmp_path / "var"), DJANGO_SECRET_KEY=None, JWT_SECRET_KEY=None, ALLOWED_HOSTS=None, BASE_URL=None
    )
    return subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_build_time_collectstatic_loads_the_settings_without_secrets(dockerfile, tmp_path):
    result = build_time_collectstatic(dockerfile, tmp_path, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_build_time_collectstatic_writes_the_manifest(dockerfile, tmp_path):
    """The whole build step (compressing every file takes a while): whitenoise needs its manifest."""
    result = build_time_collectstatic(dockerfile, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "var" / "staticfiles" / "staticfiles.json").read_text())
    assert "css/site.css" in manifest["paths"]


# The shared libraries python:3.11-slim (Debian bookworm) provides: glibc, libstdc++6, libgcc-s1, zlib1g.
BASE_IMAGE_LIBRARIES = {
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libresolv.so.2",
    "libmvec.so.1",
    "libutil.so.1",
    "libstdc++.so.6",
    "libgcc_s.so.1",
    "libz.so.1",
    "ld-linux-x86-64.so.2",
    "linux-vdso.so.1",
}


@pytest.mark.skipif(sys.platform != "linux", reason="ldd")
def test_native_modules_need_only_what_the_slim_image_has():
    """Why the runtime stage installs no apt package: every .so of the image's dependencies
    (cv2 and the libraries its wheel bundles included) resolves to the base image's libraries."""
    import cv2
    import numpy
    import PIL
    import pillow_heif
    import psycopg

    roots = {Path(m.__file__).resolve().parent for m in (cv2, numpy, PIL, pillow_heif, psycopg)}
    site = Path(cv2.__file__).resolve().parents[1]
    roots |= {p for p in site.glob("*.libs")}
    missing, foreign = [], set()
    for root in roots:
        for library in [p for p in root.rglob("*.so*") if p.is_file()]:
            output = subprocess.run(["ldd", str(library)], capture_output=True, text=True).stdout
            for line in output.splitlines():
                name, _, target = line.strip().partition(" => ")
                name = name.split()[0] if name else ""
                if "not found" in line:
                    missing.append(f"{library.name}: {name}")
                elif target and str(site) not in target and name not in BASE_IMAGE_LIBRARIES:
                    foreign.add(name)
    assert not missing, missing
    assert not foreign, f"system libraries the slim image may lack: {sorted(foreign)}"


# ----------------------------------------------------------------------------- the entry point
def entrypoint(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ENTRYPOINT), *args], cwd="/", env=env, capture_output=True, text=True, timeout=timeout)


def test_unknown_role_is_refused_with_a_clear_message():
    result = entrypoint(production_env(ROLE="scheduler"))
    assert result.returncode == 64
    assert "unknown role 'scheduler'" in result.stderr
    result = entrypoint(production_env(ROLE="web"), "bogus")
    assert result.returncode == 64 and "unknown role 'bogus'" in result.stderr, "the argument wins over ROLE"


def test_non_numeric_port_is_refused():
    result = entrypoint(production_env(ROLE="web", PORT="80; rm -rf /"))
    assert result.returncode == 64
    assert "PORT must be a number" in result.stderr


@pytest.mark.stack
@pytest.mark.django_db(transaction=True)
def test_migrate_role_runs_migrations(stack_env):
    env = {**stack_env, "ROLE": "migrate", "SECURE_SSL_REDIRECT": "false", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    result = entrypoint(env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "No migrations to apply" in result.stdout or "Applying" in result.stdout
    # The argument form does the same: `docker run IMAGE migrate --plan`.
    result = entrypoint({**env, "ROLE": "web"}, "migrate", "--plan", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.stack
@pytest.mark.django_db(transaction=True)
def test_web_role_serves_health_on_port(stack_env, logs_dir):
    port = free_port()
    metrics_token = long_secret("metrics")
    env = {
        **stack_env,
        "ROLE": "web",
        "PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "METRICS_TOKEN": metrics_token,
    }
    server = Managed("entrypoint-web", ["bash", str(ENTRYPOINT)], env, logs_dir, cwd=Path("/")).start()
    try:
        wait_for_port(port, 60, server.process, server.log_path)
        live = requests.get(f"http://127.0.0.1:{port}/health/live", timeout=10)
        assert live.status_code == 200 and live.json()["status"] == "ok"
        health = requests.get(
            f"http://127.0.0.1:{port}/health?token=never-logged", headers={"Authorization": f"Bearer {metrics_token}"}, timeout=30
        )
        assert health.status_code in (200, 503)
        body = health.json()
        assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"], body
        assert "depth" in body["queue"] and isinstance(body["workers"], list)
        # The web itself is PID of the shell's exec: no wrapper process in between.
        assert shlex.split(Path(f"/proc/{server.pid}/cmdline").read_text().replace("\0", " "))[1:3] == ["-m", "sketchsite.serve"]
    finally:
        started = time.monotonic()
        server.stop(10)
        assert time.monotonic() - started < 8, "daphne must stop promptly on SIGTERM"
    log = server.output()
    assert "never-logged" not in log, "query strings never reach the logs"
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("logger") == "sketchsite.request"]
    assert request_lines and request_lines[0]["path"] == "/health", lines
    assert {"method", "path", "status", "duration_ms", "request_id", "user_id", "severity"} <= set(request_lines[0])
