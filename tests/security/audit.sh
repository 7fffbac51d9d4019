#!/usr/bin/env bash
# Dependency audit: pip-audit over requirements.txt (and what it pulls in).
#
#   fails (exit 1) on a known vulnerability that has a fixed release: upgrade the pin;
#   warns (exit 0) on a vulnerability with no fix yet: nothing to upgrade to;
#   warns (exit 0) when the advisory database cannot be reached (offline CI, a PyPI mirror
#   without the JSON API): an audit that could not run is reported, not passed off as clean.
#
# Usage: tests/security/audit.sh [requirements file...]   (default: requirements.txt)
# Env:   PIP_AUDIT=path/to/pip-audit   PIP_AUDIT_SERVICE=pypi|osv   AUDIT_STRICT=1 (fail when offline)
#        PIP_AUDIT_IGNORE="GHSA-xxxx PYSEC-yyyy" (accepted advisories, each with a reason in the commit)
set -uo pipefail
cd "$(dirname "$0")/../.."

PIP_AUDIT=${PIP_AUDIT:-.venv/bin/pip-audit}
SERVICE=${PIP_AUDIT_SERVICE:-pypi}
[[ -x $PIP_AUDIT ]] || PIP_AUDIT=$(command -v pip-audit || true)
if [[ -z $PIP_AUDIT ]]; then
  echo "audit: WARNING: pip-audit is not installed (pip install pip-audit); dependencies NOT audited" >&2
  exit "${AUDIT_STRICT:-0}"
fi

files=("$@")
((${#files[@]})) || files=(requirements.txt)
args=()
for f in "${files[@]}"; do args+=(-r "$f"); done
for id in ${PIP_AUDIT_IGNORE:-}; do args+=(--ignore-vuln "$id"); done

report=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$report" "$errors"' EXIT

echo "audit: $PIP_AUDIT ${args[*]} (service: $SERVICE)"
timeout "${AUDIT_TIMEOUT:-600}" "$PIP_AUDIT" "${args[@]}" -s "$SERVICE" -f json --progress-spinner off >"$report" 2>"$errors"
status=$?

PYTHON=${PYTHON:-.venv/bin/python}
[[ -x $PYTHON ]] || PYTHON=python3
"$PYTHON" - "$report" "$errors" "$status" "${AUDIT_STRICT:-0}" <<'EOF'
import json
import sys

report_path, errors_path, status, strict = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"


def offline(reason: str) -> None:
    print(f"audit: WARNING: dependencies NOT audited: {reason}", file=sys.stderr)
    tail = open(errors_path, errors="replace").read().strip().splitlines()[-5:]
    for line in tail:
        print(f"audit:   {line}", file=sys.stderr)
    sys.exit(1 if strict else 0)


try:
    report = json.load(open(report_path))
except (OSError, ValueError):
    offline(f"pip-audit exited with {status} without a report (no network to the advisory database?)")

dependencies = report.get("dependencies", [])
audited = [d for d in dependencies if "skip_reason" not in d]
skipped = [d for d in dependencies if "skip_reason" in d]
if dependencies and not audited:
    offline(f"the advisory service answered for none of {len(dependencies)} packages ({skipped[0]['skip_reason']})")

fixable, unfixable = [], []
for dep in audited:
    for vuln in dep.get("vulns", []):
        line = f"{dep['name']} {dep['version']}: {vuln['id']}"
        aliases = [a for a in vuln.get("aliases", []) if a != vuln["id"]]
        if aliases:
            line += f" ({', '.join(aliases[:3])})"
        if vuln.get("fix_versions"):
            fixable.append(f"{line} -> fixed in {', '.join(vuln['fix_versions'])}")
        else:
            unfixable.append(f"{line} -> no fixed release yet")

print(f"audit: {len(audited)} packages audited, {len(skipped)} skipped")
for dep in skipped:
    print(f"audit:   skipped {dep['name']}: {dep['skip_reason']}")
for line in unfixable:
    print(f"audit: WARNING: {line}")
for line in fixable:
    print(f"audit: VULNERABLE: {line}")
if fixable:
    print(f"audit: {len(fixable)} vulnerabilities have a fix: raise the pins in requirements.txt", file=sys.stderr)
    sys.exit(1)
print("audit: OK" + (f" ({len(unfixable)} advisories without a fix, see warnings)" if unfixable else ""))
EOF
