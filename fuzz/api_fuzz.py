"""Fuzz the HTTP API against its own OpenAPI schema with schemathesis (`make fuzz`, first half).

Starts the embedded default as a real daphne process with DEBUG off (production security
settings, a fresh SQLite database in a temporary VAR_DIR, the in-process worker), registers a
user, and runs ``schemathesis run`` on /api/schema/ with its Bearer token: every operation,
all four phases (examples, coverage, fuzzing, stateful), every check. The hooks in
``fuzz/st_hooks.py`` add the links of the upload → sketch flow and do the browser's file upload
between presign and confirm, so the stateful phase reaches real uploads and sketches.

Exit status: 1 when a *gating* check failed (server errors, responses or status codes that
the schema does not describe, authentication ignored, a deleted object still served) or when
the server logged an unhandled exception; the other checks (lenient validation of odd input)
are reported but do not fail the run. Reports: var/fuzz/api/ (schemathesis JSON + NDJSON,
the served schema, the server log, summary.json).

    python -m fuzz.api_fuzz [--max-examples 100] [--max-time 300] [--workers 2] [--seed N]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz.app import PROXY_HEADERS, register, running_app  # noqa: E402

# A failure of one of these fails the run. The rest are advisory (see module docstring).
GATING_CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "ignored_auth",
    "use_after_free",
}
PHASES = "examples,coverage,fuzzing,stateful"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation and phase (default 100)")
    parser.add_argument("--max-time", type=int, default=300, help="time budget of the schemathesis run, seconds (default 300)")
    parser.add_argument("--workers", default="2", help="concurrent schemathesis workers (default 2)")
    parser.add_argument("--phases", default=PHASES)
    parser.add_argument("--seed", type=int, default=None, help="schemathesis seed (default: random, printed)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "fuzz" / "api")
    parser.add_argument("--debug-app", action="store_true", help="run the app with DEBUG=true instead of production settings")
    parser.add_argument("--show-output", action="store_true", help="stream schemathesis' own output")
    parser.add_argument("--keep-var", action="store_true", help="keep the app's temporary VAR_DIR")
    parser.add_argument("extra", nargs="*", help="more `schemathesis run` options, after --")
    return parser.parse_args(argv)


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={**PROXY_HEADERS, "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def run_schemathesis(args, base_url: str, token: str, out: Path) -> int:
    json_path, ndjson_path = out / "schemathesis.json", out / "schemathesis.ndjson"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base_url}/api/schema/",
        *[arg for name, value in PROXY_HEADERS.items() for arg in ("--header", f"{name}: {value}")],
        "--checks",
        "all",
        "--phases",
        args.phases,
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
        "--workers",
        str(args.workers),
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--report",
        "json,ndjson,junit",
        "--report-dir",
        str(out),
        "--report-json-path",
        str(json_path),
        "--report-ndjson-path",
        str(ndjson_path),
        "--report-junit-path",
        str(out / "junit.xml"),
        "--no-color",
        *(["--seed", str(args.seed)] if args.seed is not None else []),
        *args.extra,
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "fuzz.st_hooks",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "FUZZ_BASE_URL": base_url,
        "FUZZ_TOKEN": token,  # fuzz.st_hooks.RunLogin sends it
        "FUZZ_HOOK_STATS": str(out / "hook-stats.json"),
    }
    with open(out / "schemathesis.log", "w") as log:
        process = subprocess.Popen(command, cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            log.write(line)
            if args.show_output:
                sys.stdout.write(line)
        return process.wait()


# ----------------------------------------------------------------------------- the summary
def _decode_content(response: dict) -> str:
    content = response.get("content") or {}
    if "$base64" in content:
        try:
            return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
        except ValueError:
            return "<undecodable>"
    return str(content)[:500]


def _short(value, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def declared_operations(schema_path: Path) -> set[str]:
    """ "METHOD /path" of every operation of the served schema, trailing slash removed."""
    if not schema_path.exists():
        return set()
    paths = json.loads(schema_path.read_text()).get("paths", {})
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {f"{method.upper()} {path.rstrip('/') or '/'}" for path, item in paths.items() for method in item if method in methods}


def summarise(ndjson_path: Path, report_path: Path, declared: set[str] | None = None) -> dict:
    """Counts per operation, status and check, and one example per distinct failure."""
    cases_by_operation: Counter = Counter()
    statuses_by_operation: dict[str, Counter] = {}
    statuses: Counter = Counter()
    server_errors: list = []
    failing_cases: Counter = Counter()
    distinct: dict = {}
    phases: Counter = Counter()
    seen_cases: set = set()
    for line in ndjson_path.open() if ndjson_path.exists() else []:
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished or "cases" not in finished.get("recorder", {}):
            continue
        recorder = finished["recorder"]
        for case_id, node in recorder["cases"].items():
            if case_id in seen_cases:
                continue
            seen_cases.add(case_id)
            value = node["value"]
            operation = f"{value['method']} {value['path']}"
            cases_by_operation[operation] += 1
            phases[finished.get("phase", "?")] += 1
            interaction = recorder.get("interactions", {}).get(case_id)
            status = interaction["response"]["status_code"] if interaction and interaction.get("response") else None
            if status is not None:
                statuses[status] += 1
                statuses_by_operation.setdefault(operation, Counter())[status] += 1
                if status >= 500:
                    server_errors.append({"operation": operation, "request": interaction["request"], "status": status})
            for check in recorder.get("checks", {}).get(case_id, []):
                if check.get("status") != "failure":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                failing_cases[check["name"]] += 1
                message = failure.get("message", "")
                # One entry per operation, check and kind of message (numbers and quoted values vary).
                key = (
                    failure.get("operation") or operation,
                    check["name"],
                    re.sub(r"\d+|'[^']*'|\"[^\"]*\"", "_", message.split("\n")[0]),
                )
                if key in distinct:
                    distinct[key]["count"] += 1
                    continue
                request = interaction["request"] if interaction else {}
                distinct[key] = {
                    "operation": key[0],
                    "check": check["name"],
                    "code": failure.get("code"),
                    "title": failure.get("title"),
                    "message": message,
                    "phase": finished.get("phase"),
                    "request": f"{request.get('method', value['method'])} {request.get('uri', value['path'])}",
                    "body": value.get("body"),
                    "media_type": value.get("media_type"),
                    "status": status,
                    "response": _decode_content(interaction["response"]) if interaction and interaction.get("response") else None,
                    "count": 1,
                }
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    probes = Counter()
    if declared:
        for operation in list(cases_by_operation):
            method, path = operation.split(" ", 1)
            if f"{method} {path.rstrip('/') or '/'}" not in declared:  # unsupported_method's probes
                probes[operation] = cases_by_operation.pop(operation)
                statuses_by_operation.pop(operation, None)
    return {
        "schemathesis": {
            k: report.get(k) for k in ("running_time", "stop_reason", "operations", "test_cases", "seed", "exit_code")
        },
        "warnings": {k: v for k, v in (report.get("warnings") or {}).items() if v},
        "cases_by_operation": dict(sorted(cases_by_operation.items())),
        "undeclared_method_probes": sum(probes.values()),
        "statuses_by_operation": {op: dict(sorted(c.items())) for op, c in sorted(statuses_by_operation.items())},
        "cases_by_phase": dict(phases),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": server_errors[:20],
        "failing_cases_by_check": dict(failing_cases),
        "failures": sorted(distinct.values(), key=lambda f: (f["check"] not in GATING_CHECKS, f["operation"], f["check"])),
    }


def server_exceptions(log_text: str) -> list[str]:
    """Unhandled exceptions the server logged (they may hide behind a handled 4xx/5xx)."""
    found = []
    for match in re.finditer(r"Traceback \(most recent call last\):.*?\n(?=\S)(.*)", log_text, flags=re.S):
        found.append(match.group(1).strip()[:300])
    for line in log_text.splitlines():
        if '"severity": "ERROR"' in line or " ERROR " in line or '"levelname": "ERROR"' in line:
            found.append(line[:300])
    return found


def print_summary(summary: dict, hook_stats: dict, exceptions: list[str], elapsed: float) -> None:
    st = summary["schemathesis"]
    ops = st.get("operations") or {}
    cases = st.get("test_cases") or {}
    print("\n== API fuzz (schemathesis) ==")
    print(
        f"operations: {ops.get('tested')}/{ops.get('total')} tested; test cases: {cases.get('generated')} generated "
        f"({sum(summary['cases_by_operation'].values())} recorded), by phase {summary['cases_by_phase']}"
    )
    print(
        f"schemathesis time: {st.get('running_time') or 0:.0f} s (stop: {st.get('stop_reason')}), whole run {elapsed:.0f} s, seed {st.get('seed')}"
    )
    print(f"responses by status: {summary['statuses']}")
    print(
        f"browser uploads by the hook: { {k: v for k, v in hook_stats.items() if k.startswith('browser_upload')} }; "
        f"links added {hook_stats.get('schema_links_added', 0)}, enums added {hook_stats.get('schema_enums_added', 0)}"
    )
    print("cases per operation (answers by status):")
    for operation, count in summary["cases_by_operation"].items():
        answers = " ".join(f"{code}x{n}" for code, n in summary["statuses_by_operation"].get(operation, {}).items())
        print(f"  {count:6d}  {operation:36s} {answers}")
    if summary.get("undeclared_method_probes"):
        print(f"  {summary['undeclared_method_probes']:6d}  probes with methods the schema does not declare (unsupported_method)")
    print(f"failing cases by check: {summary['failing_cases_by_check'] or 'none'}")
    if summary["warnings"]:
        print(f"schemathesis warnings: {json.dumps(summary['warnings'])}")
    for failure in summary["failures"]:
        gate = "FAIL" if failure["check"] in GATING_CHECKS else "note"
        print(
            f"\n[{gate}] {failure['operation']} - {failure['check']} ({failure['code']} {failure['title']}), {failure['count']} case(s), phase {failure['phase']}"
        )
        print(f"    {failure['message'].strip().replace(chr(10), ' / ')}")
        print(f"    request: {_short(failure['request'], 300)}")
        if failure["body"] is not None:
            print(f"    body ({failure['media_type']}): {_short(failure['body'], 300)}")
        print(f"    answer: {failure['status']} {_short(failure['response'] or '', 300)}")
    print(f"\nserver-side unhandled exceptions/errors logged: {len(exceptions)}")
    for line in exceptions[:10]:
        print(f"  {line}")


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.monotonic()
    with running_app(out, debug=args.debug_app, keep=args.keep_var, JWT_ACCESS_TOKEN_EXPIRE_MINUTES=str(24 * 60)) as (
        base_url,
        server,
    ):
        print(f"app: {base_url} (DEBUG={'true' if args.debug_app else 'false'}), log {server.log_path}")
        token, _ = register(base_url)
        (out / "schema.json").write_bytes(_get(f"{base_url}/api/schema/?format=json"))
        code = run_schemathesis(args, base_url, token, out)
        log_text = server.output()
    summary = summarise(out / "schemathesis.ndjson", out / "schemathesis.json", declared_operations(out / "schema.json"))
    hook_stats = json.loads((out / "hook-stats.json").read_text()) if (out / "hook-stats.json").exists() else {}
    exceptions = server_exceptions(log_text)
    elapsed = time.monotonic() - started
    summary.update(hook_stats=hook_stats, server_exceptions=exceptions, elapsed_s=round(elapsed, 1), schemathesis_exit=code)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print_summary(summary, hook_stats, exceptions, elapsed)

    gating = {f["check"] for f in summary["failures"] if f["check"] in GATING_CHECKS}
    st = summary["schemathesis"]
    broken = not st.get("test_cases") or (st.get("operations") or {}).get("tested", 0) == 0
    if code not in (0, 1) or broken:  # 1 = failures found; anything else = schemathesis could not run
        print(f"\nschemathesis did not run to the end (exit {code}); see {out / 'schemathesis.log'}")
        return 2
    verdict = 1 if gating or summary["server_errors"] or exceptions else 0
    print(
        f"\nverdict: {'FAIL' if verdict else 'PASS'} "
        f"(gating checks failed: {sorted(gating) or 'none'}; 5xx responses: {len(summary['server_errors'])}; "
        f"server exceptions: {len(exceptions)}). Reports in {out}"
    )
    return verdict


if __name__ == "__main__":
    sys.exit(main())
