"""How pip inside the build reaches the package index the way pip on this machine does.

The host's pip settings (``pip config list``: its config files and ``PIP_*`` variables) become
two build secrets, which the Dockerfile's install step alone reads and no layer keeps:

- ``pip_ca``: the CA bundle the host's pip trusts (``cert``, else ``REQUESTS_CA_BUNDLE``), for a
  TLS-inspecting proxy or a private index with its own CA;
- ``pip_conf``: a pip.conf with the index settings that make sense inside the build (index URLs
  over http(s), trusted hosts, proxy, timeout). ``file://`` indexes and ``find-links`` point at
  the host's disk and are left out.

Proxy variables (``HTTP_PROXY`` …) are passed as build arguments, which both engines treat as
predefined and keep out of the image's history.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

KEPT = ("index-url", "extra-index-url", "trusted-host", "proxy", "timeout", "retries")
ALIASES = {"default-timeout": "timeout"}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@dataclass
class PipSettings:
    ca_bundle: Path | None
    conf: str  # pip.conf text; empty when nothing is worth passing

    def secrets(self, conf_path: Path) -> list[str]:
        """Engine arguments; writes the pip.conf to ``conf_path`` when there is one."""
        args = []
        if self.ca_bundle:
            args += ["--secret", f"id=pip_ca,src={self.ca_bundle}"]
        if self.conf:
            conf_path.parent.mkdir(parents=True, exist_ok=True)
            conf_path.write_text(self.conf)
            conf_path.chmod(0o600)
            args += ["--secret", f"id=pip_conf,src={conf_path}"]
        return args


def parse_config_list(output: str) -> dict[str, str]:
    """``pip config list`` lines (``global.cert='/x'``, ``:env:.timeout='60'``) → {option: value}.
    Later sources win, as in pip (environment over files)."""
    options: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"^[^.=]*\.([\w-]+)='(.*)'$", line.strip())
        if match:
            options[ALIASES.get(match.group(1), match.group(1))] = match.group(2)
    return options


def settings_from(options: dict[str, str], environ: dict[str, str]) -> PipSettings:
    cert = options.get("cert") or environ.get("REQUESTS_CA_BUNDLE") or ""
    ca_bundle = Path(cert) if cert and Path(cert).is_file() else None
    lines = []
    for option in KEPT:
        value = options.get(option, "")
        if option in ("index-url", "extra-index-url"):
            value = " ".join(u for u in value.split() if u.startswith(("http://", "https://")))
        if value:
            lines.append(f"{option} = {value}\n")
    return PipSettings(ca_bundle, "[global]\n" + "".join(lines) if lines else "")


def host_pip_settings(python: str = sys.executable) -> PipSettings:
    result = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True)
    return settings_from(parse_config_list(result.stdout if result.returncode == 0 else ""), dict(os.environ))


def proxy_build_args(environ: dict[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    return [arg for name in PROXY_VARIABLES if environ.get(name) for arg in ("--build-arg", f"{name}={environ[name]}")]
