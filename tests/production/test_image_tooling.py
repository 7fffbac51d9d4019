"""The image's build helpers, run here: the venv pruning, the bytecode warm-up, and the pieces of
scripts/image that decide how to build (base, Debian mirror, pip settings, podman config).

`make image-smoke` builds and runs the image itself (podman, root, a few minutes): it is a CI
step of its own (.ci/run), not a test of this suite.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.image import base, engine, pip_settings
from tests.support.processes import ROOT

from .conftest import production_env

PRUNE = ROOT / "docker" / "prune-venv.sh"
WARM = ROOT / "docker" / "warm_bytecode.py"


# ----------------------------------------------------------------------------- docker/prune-venv.sh
def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def pruned_venv(tmp_path_factory):
    """A real virtualenv (with pip, which the script uninstalls) holding a sample of what packages ship."""
    venv = tmp_path_factory.mktemp("prune") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=240)
    site = next((venv / "lib").glob("python3*/site-packages"))
    kept = {
        "django/test/client.py",  # run-time code, despite its name
        "django/conf/locale/en/LC_MESSAGES/django.mo",
        "django/conf/locale/en_GB/LC_MESSAGES/django.mo",
        "django/conf/locale/fr/formats.py",
        "twisted/internet/tcp.py",
        "botocore/data/s3/2006-03-01/service-2.json.gz",
        "botocore/data/sts/2011-06-15/service-2.json.gz",
        "botocore/data/endpoints.json",
        "numpy/testing/__init__.py",
        "pkg/static/pkg/site.css",  # collectstatic needs it; the Dockerfile drops it afterwards
    }
    dropped = {
        "numpy/_core/tests/test_api.py",
        "pkg/tests/__init__.py",
        "twisted/internet/test/test_tcp.py",
        "twisted/test/proto_helpers.py",
        "pkg/__init__.pyi",
        "django/conf/locale/fr/LC_MESSAGES/django.po",
        "django/conf/locale/fr/LC_MESSAGES/django.mo",
        "django/conf/locale/en/LC_MESSAGES/django.po",
        "botocore/data/ec2/2016-11-15/service-2.json.gz",
        "numpy/_core/include/numpy/ndarrayobject.h",
        "numpy/random/bit_generator.pxd",
        "numpy/_core/lib/libnpymath.a",
        "numpy/f2py/__init__.py",
        "numpy/distutils/__init__.py",
        "autobahn/_flatc/bin/flatc",
    }
    for name in kept | dropped:
        touch(site / name)
    result = subprocess.run(["sh", str(PRUNE), str(venv)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    return venv, site, kept, dropped


def test_prune_keeps_what_the_runtime_loads(pruned_venv):
    venv, site, kept, _ = pruned_venv
    missing = sorted(name for name in kept if not (site / name).exists())
    assert not missing
    assert (venv / "bin" / "python").exists()


def test_prune_drops_tests_stubs_sources_foreign_translations_and_aws_models(pruned_venv):
    _, site, _, dropped = pruned_venv
    left = sorted(name for name in dropped if (site / name).exists())
    assert not left
    assert sorted(p.name for p in (site / "botocore" / "data").iterdir()) == ["endpoints.json", "s3", "sts"]


def test_prune_removes_the_installers(pruned_venv):
    venv, site, _, _ = pruned_venv
    assert not (site / "pip").exists() and not list(site.glob("pip-*.dist-info"))
    assert not (site / "setuptools").exists()
    assert not (venv / "bin" / "pip").exists()


def test_prune_refuses_a_directory_without_a_virtualenv(tmp_path):
    result = subprocess.run(["sh", str(PRUNE), str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 64
    assert "no site-packages" in result.stderr


# ----------------------------------------------------------------------------- docker/warm_bytecode.py
def test_warm_bytecode_compiles_what_the_roles_import_and_nothing_else(tmp_path):
    """Run as the runtime stage runs it (DEBUG off, no database, no Redis), bytecode in a scratch prefix."""
    prefix = tmp_path / "pycache"
    env = production_env(VAR_DIR=str(tmp_path / "var"), PYTHONPYCACHEPREFIX=str(prefix), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, str(WARM)], cwd="/", env=env, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]
    written = {str(p.relative_to(prefix)) for p in prefix.rglob("*.pyc")}

    def compiled(module_path: str) -> bool:
        return any(module_path in name for name in written)

    for needed in (
        "daphne/server.",
        "twisted/internet/tcp.",
        "autobahn/websocket/protocol.",
        "rq/worker/",
        "botocore/client.",
        "psycopg/connection.",
        "channels_redis/core.",
        "sketches/jobs.",
        "sketches/engine/",
        "sketches/migrations/0001_initial.",
        "sketches/management/commands/sketchworker.",
        "drf_spectacular/generators.",
    ):
        assert compiled(needed), f"no bytecode for {needed}"
    for unused in ("twisted/conch/", "twisted/mail/", "numpy/f2py/", "django/contrib/gis/"):
        assert not compiled(unused), f"bytecode for {unused}, which no role imports"


# ----------------------------------------------------------------------------- scripts/image
def test_the_default_base_is_read_from_the_dockerfile():
    assert base.dockerfile_base() == "python:3.11-slim"


@pytest.mark.parametrize(
    ("image", "url"),
    [
        ("python:3.11-slim", "https://registry-1.docker.io/v2/"),
        ("library/python:3.11-slim", "https://registry-1.docker.io/v2/"),
        ("europe-west1-docker.pkg.dev/p/sketch/python:3.11-slim", "https://europe-west1-docker.pkg.dev/v2/"),
        ("localhost:5000/python:3.11-slim", "https://localhost:5000/v2/"),
    ],
)
def test_registry_of_an_image(image, url):
    assert base.registry_url(image) == url


def test_an_unresolvable_registry_is_unreachable():
    assert base.registry_reachable("registry.invalid/python:3.11-slim", timeout=3) is False


def test_debian_mirror_from_deb822_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("DEBIAN_MIRROR", raising=False)
    touch(
        tmp_path / "sources.list.d" / "debian.sources",
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n",
    )
    assert base.debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_debian_mirror_from_a_one_line_list_then_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("DEBIAN_MIRROR", raising=False)
    assert base.debian_mirror(tmp_path) == base.DEFAULT_MIRROR
    touch(tmp_path / "sources.list", "# comment\ndeb [arch=amd64] http://ftp.example/debian bookworm main\n")
    assert base.debian_mirror(tmp_path) == "http://ftp.example/debian"
    monkeypatch.setenv("DEBIAN_MIRROR", "http://override.example/debian")
    assert base.debian_mirror(tmp_path) == "http://override.example/debian"


def test_slim_rootfs_drops_docs_locales_and_apt_lists_but_keeps_copyrights(tmp_path):
    keep = [
        touch(tmp_path / "usr/share/doc/bash/copyright"),
        touch(tmp_path / "usr/share/zoneinfo/UTC"),
        touch(tmp_path / "var/lib/apt/lists/lock"),
    ]
    drop = [
        touch(tmp_path / "usr/share/doc/bash/changelog.gz"),
        touch(tmp_path / "usr/share/man/man1/bash.1.gz"),
        touch(tmp_path / "usr/share/locale/fr/LC_MESSAGES/apt.mo"),
        touch(tmp_path / "var/cache/apt/archives/bash_5.2.deb"),
        touch(tmp_path / "var/cache/apt/pkgcache.bin"),
        touch(tmp_path / "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"),
    ]
    base.slim_rootfs(tmp_path)
    assert all(p.exists() for p in keep)
    assert not [p for p in drop if p.exists()]
    config = (tmp_path / "etc/dpkg/dpkg.cfg.d/slim").read_text()
    assert "path-exclude /usr/share/doc/*\n" in config and "path-include /usr/share/doc/*/copyright\n" in config


def test_podman_settings_for_this_kind_of_machine():
    conf = engine.containers_conf(20000)
    assert 'runtime = "runc"' in conf and 'cgroup_manager = "cgroupfs"' in conf
    assert '"nofile=20000:20000"' in conf and '"nproc=32768:32768"' in conf


def test_an_unknown_engine_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("CONTAINER_ENGINE", "lxc")
    with pytest.raises(engine.EngineError, match="CONTAINER_ENGINE must be podman or docker"):
        engine.detect(tmp_path)


def test_pip_settings_keep_what_the_build_can_use():
    listed = "\n".join(
        [
            "global.cert='/etc/ssl/certs/ca-certificates.crt'",
            "global.extra-index-url='file:///opt/pypi/simple https://pypi.example/simple'",
            "global.find-links='/opt/wheels'",
            "global.index-url='https://mirror.example/simple'",
            ":env:.default-timeout='180'",
            ":env:.disable-pip-version-check='1'",
        ]
    )
    options = pip_settings.parse_config_list(listed)
    settings = pip_settings.settings_from(options, {})
    assert settings.ca_bundle == Path("/etc/ssl/certs/ca-certificates.crt")
    assert settings.conf == (
        "[global]\nindex-url = https://mirror.example/simple\nextra-index-url = https://pypi.example/simple\ntimeout = 180\n"
    )


def test_pip_settings_without_anything_to_pass(tmp_path):
    settings = pip_settings.settings_from({"cert": str(tmp_path / "missing.pem")}, {})
    assert settings.ca_bundle is None and settings.conf == ""
    assert settings.secrets(tmp_path / "pip.conf") == []
    assert not (tmp_path / "pip.conf").exists()


def test_pip_secrets_and_proxy_arguments(tmp_path):
    bundle = touch(tmp_path / "ca.pem", "-----BEGIN CERTIFICATE-----")
    settings = pip_settings.PipSettings(bundle, "[global]\ntimeout = 60\n")
    conf = tmp_path / "work" / "pip.conf"
    assert settings.secrets(conf) == ["--secret", f"id=pip_ca,src={bundle}", "--secret", f"id=pip_conf,src={conf}"]
    assert conf.read_text() == "[global]\ntimeout = 60\n" and (conf.stat().st_mode & 0o777) == 0o600
    assert pip_settings.proxy_build_args({"HTTPS_PROXY": "http://proxy:3128", "PATH": "/bin"}) == [
        "--build-arg",
        "HTTPS_PROXY=http://proxy:3128",
    ]


@pytest.mark.skipif(not os.path.exists("/etc/apt"), reason="a Debian host")
def test_this_hosts_mirror_is_found():
    assert base.debian_mirror().startswith(("http://", "https://"))
