"""Fuzz the image decoder: ``decode`` and ``probe`` on mutated real files (`make fuzz`, second half).

Inputs are the sample photos, small copies of them (EXIF, ICC, XMP kept) and generated JPEG,
PNG, WebP, GIF and HEIC files of every variant (progressive, CMYK, 16-bit, palette, alpha,
animated, EXIF orientations...), mutated by bit flips, byte insertions and deletions,
truncations, header edits (zero, huge and edge dimensions in IHDR/SOF/VP8/VP8L/VP8X/GIF/ispe,
bit depths, colour types), corrupted length fields and reordered, duplicated or dropped chunks.

Engines: ``atheris`` (coverage-guided libFuzzer; the Python code of the engine and of Pillow is
instrumented, the C decoders are not) with the mutations above as its custom mutator, or
``random`` (the same mutations, stacked 1-3 deep, no feedback). ``auto`` picks atheris when it
is installed.

The oracle (fuzz/images.py ``check``): only an RGB uint8 array of the header's size or a typed
``ImageError``; probe and decode agree; nothing past the pixel limit. Every input runs in a
child process whose address space is capped (RLIMIT_AS, --memory-mb) and which a watchdog ends
after --timeout seconds on one input; the parent restarts children that die and saves the
input that killed them. Failing inputs go to <out>/crashes/ (with a .txt saying why).

    python -m fuzz.decode_fuzz [--seconds 120] [--engine auto|atheris|random] [--jobs 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MAX_SAVED_PER_SIGNATURE = 3
SELFTEST_AT = 5
INSTRUMENTED = [
    "sketches.engine.decode",
    "sketches.engine.integrity",
    "PIL.ImageFile",
    "PIL.JpegImagePlugin",
    "PIL.PngImagePlugin",
    "PIL.GifImagePlugin",
    "PIL.WebPImagePlugin",
    "PIL.TiffImagePlugin",  # EXIF
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120, help="total fuzzing time (default 120)")
    parser.add_argument("--engine", choices=["auto", "atheris", "random"], default="auto")
    parser.add_argument("--jobs", type=int, default=2, help="parallel fuzzing processes (default 2: atheris + random)")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space cap of each fuzzing process (default 2048)")
    parser.add_argument("--timeout", type=float, default=5, help="seconds one input may take (default 5)")
    parser.add_argument("--max-pixels", type=int, default=None, help="pixel limit given to decode (default: the engine's, 50 MP)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    parser.add_argument("--no-full-photos", action="store_true", help="only the small copies of the photos (faster)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "fuzz", help="crashes/ and decode/ go here (default var/fuzz)")
    # Internal: the fuzzing child.
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stats-file", type=Path, default=None, help=argparse.SUPPRESS)
    # Proves the harness: misbehave on the SELFTEST_AT-th input (tests/fuzz checks each is caught).
    parser.add_argument("--selftest", choices=["hang", "segv", "memory", "untyped"], default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def resolve_engine(engine: str, slot: int = 0) -> str:
    """auto: atheris in the first process when it is installed, random in the others (atheris
    sees only the Python side; blind mutations reach more of the C decoders' paths)."""
    if engine != "auto":
        return engine
    try:
        import atheris  # noqa: F401
    except ImportError:
        return "random"
    return "atheris" if slot == 0 else "random"


# ============================================================================= child
class Child:
    """One fuzzing process: runs inputs until the deadline, recording outcomes and failures."""

    def __init__(self, args, work: Path, crashes: Path):
        self.args, self.work, self.crashes = args, work, crashes
        self.stats = {
            "inputs": 0,
            "outcomes": Counter(),
            "probe": Counter(),
            "complete": Counter(),
            "formats": Counter(),
            "mutations": Counter(),
            "failures": Counter(),
            "max_rss_kb": 0,
            "slowest": [],  # [ms, description]
            "rss_peaks": [],  # [MB, description]: the inputs that raised the high-water mark
            "bytes": 0,
            "elapsed_s": 0.0,
        }
        self.signatures: Counter = Counter()
        self.started = time.monotonic()
        self.last_flush = 0.0
        inflight = work / f"inflight-{args.child}"
        self.inflight_data = open(f"{inflight}.bin", "wb")
        self.inflight_desc = open(f"{inflight}.txt", "w")

    # -- bookkeeping
    def flush(self, final: bool = False) -> None:
        self.stats["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.stats["elapsed_s"] = round(time.monotonic() - self.started, 2)
        temporary = self.args.stats_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.stats, default=dict))
        os.replace(temporary, self.args.stats_file)
        self.last_flush = time.monotonic()

    def _mark_inflight(self, data: bytes, description: str) -> None:
        # Survives the process (page cache): the parent reads it if this input kills us.
        for handle, payload in ((self.inflight_data, data), (self.inflight_desc, description)):
            handle.seek(0)
            handle.write(payload)
            handle.truncate()
            handle.flush()

    def save_failure(self, kind: str, data: bytes, description: str, detail: str) -> None:
        from fuzz.images import guess_suffix

        self.stats["failures"][kind] += 1
        signature = kind + "|" + detail.strip().splitlines()[-1][:200] if detail.strip() else kind
        self.signatures[signature] += 1
        if self.signatures[signature] > MAX_SAVED_PER_SIGNATURE:
            return
        digest = hashlib.sha1(data).hexdigest()[:12]
        path = self.crashes / f"{kind}-{digest}{guess_suffix(data)}"
        path.write_bytes(data)
        path.with_suffix(path.suffix + ".txt").write_text(f"{kind}\ninput: {description}\n\n{detail}\n")

    # -- one input
    def run_one(self, data: bytes, description: str, mutations: list[str] | None = None) -> None:
        from fuzz.images import OracleViolation, check

        self._mark_inflight(data, description)
        faulthandler_arm(self.args.timeout)
        started = time.perf_counter()
        verdict = None
        try:
            if self.args.selftest and self.stats["inputs"] == SELFTEST_AT:
                misbehave(self.args.selftest)
            verdict = check(data, self.max_pixels)
        except OracleViolation:
            self.save_failure("oracle", data, description, traceback.format_exc())
        except MemoryError:
            self.save_failure("memory", data, description, traceback.format_exc())
        except Exception as exc:  # anything but a typed ImageError
            self.save_failure(f"untyped-{type(exc).__name__}", data, description, traceback.format_exc())
        else:
            self.stats["outcomes"][verdict.outcome] += 1
            self.stats["probe"][verdict.probe] += 1
            if verdict.complete:
                self.stats["complete"][verdict.complete] += 1
            if verdict.format:
                self.stats["formats"][verdict.format] += 1
        finally:
            faulthandler_disarm()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if verdict is not None and verdict.size:
            description = f"{description} [{verdict.format} {verdict.size} -> {verdict.outcome}]"
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if rss_kb > self.stats["max_rss_kb"]:
            self.stats["max_rss_kb"] = rss_kb
            peak = [round(rss_kb / 1024, 1), f"{description} ({len(data)} bytes)"]
            self.stats["rss_peaks"] = [peak, *self.stats["rss_peaks"]][:3]
        self.stats["inputs"] += 1
        self.stats["bytes"] += len(data)
        for name in mutations or ():
            self.stats["mutations"][name] += 1
        slowest = self.stats["slowest"]
        if len(slowest) < 5 or elapsed_ms > slowest[-1][0]:
            slowest.append([round(elapsed_ms, 1), f"{description} ({len(data)} bytes)"])
            slowest.sort(key=lambda item: -item[0])
            del slowest[5:]
        now = time.monotonic()
        if now - self.last_flush > 0.5:
            self.flush()
        if time.time() >= self.args.deadline and not (self.args.selftest and self.stats["inputs"] <= SELFTEST_AT):
            self.flush(final=True)
            os._exit(0)  # also ends libFuzzer's loop, which never returns

    # -- engines
    def setup(self) -> None:
        from fuzz.images import all_seeds
        from sketches.engine import DEFAULT_MAX_PIXELS

        self.max_pixels = self.args.max_pixels or DEFAULT_MAX_PIXELS
        self.seeds = all_seeds(full_photos=not self.args.no_full_photos)
        self.seed_data = [seed.data for seed in self.seeds]

    def run_random(self, rng: random.Random) -> None:
        from fuzz.images import mutate

        small = [s for s in self.seeds if len(s.data) <= 128 * 1024]
        large = [s for s in self.seeds if len(s.data) > 128 * 1024]
        for seed in self.seeds:  # every seed as it is, once
            self.run_one(seed.data, f"seed {seed.name}")
        while True:
            seed = rng.choice(large if large and rng.random() < 0.03 else small)
            data, names = mutate(seed.data, rng, self.seed_data)
            self.run_one(data, f"{seed.name} + {' + '.join(names)}", names)

    def run_atheris(self, rng: random.Random) -> None:
        import atheris

        from fuzz.images import mutate

        seeds_dir, corpus_dir = self.work / "seeds", self.work / "corpus"
        corpus_dir.mkdir(parents=True, exist_ok=True)
        max_len = max(len(d) for d in self.seed_data) + 4096
        counts: Counter = self.stats["mutations"]

        def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
            local = random.Random(seed)
            if local.random() < 0.35:
                counts["libfuzzer"] += 1
                return atheris.Mutate(data, max_size)
            mutated, names = mutate(data, local, self.seed_data)
            counts.update(names)
            return mutated[:max_size]

        def test_one_input(data: bytes) -> None:
            self.run_one(data, "atheris input")

        remaining = max(1, int(self.args.deadline - time.time()))
        argv = [
            "decode_fuzz",
            str(corpus_dir),
            str(seeds_dir),
            f"-max_total_time={remaining + 60}",  # we stop ourselves at the deadline; this is a backstop
            f"-timeout={int(self.args.timeout) + 5}",  # the faulthandler watchdog fires first
            f"-rss_limit_mb={self.args.memory_mb}",
            f"-max_len={max_len}",
            "-len_control=0",
            f"-seed={rng.randrange(1, 2**31)}",
            f"-artifact_prefix={self.crashes}/atheris-",
            "-print_final_stats=1",
            "-reload=0",
        ]
        atheris.Setup(argv, test_one_input, custom_mutator=custom_mutator)
        atheris.Fuzz()


def misbehave(kind: str) -> None:
    if kind == "hang":
        time.sleep(3600)
    elif kind == "segv":
        import ctypes

        ctypes.string_at(0)
    elif kind == "memory":
        bytearray(1 << 40)
    else:
        raise ValueError("self-test: an untyped error")


def faulthandler_arm(timeout: float) -> None:
    import faulthandler

    # A C thread: fires even while the main thread is stuck inside a decoder, dumps the
    # Python stack to stderr and _exit()s; the parent then saves the input as a hang.
    faulthandler.dump_traceback_later(timeout, exit=True)


def faulthandler_disarm() -> None:
    import faulthandler

    faulthandler.cancel_dump_traceback_later()


def child_main(args) -> int:
    work, crashes = args.out / "decode", args.out / "crashes"
    limit = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    engine = resolve_engine(args.engine, args.child)
    rng = random.Random(args.seed)
    child = Child(args, work, crashes)
    if engine == "atheris":
        import atheris

        # Instrument the Python that parses headers: the engine's decode module and Pillow's
        # format plugins (PIL.Image itself costs seconds of start-up for little). The C decoders
        # (libjpeg-turbo, zlib, libwebp, libheif, Pillow's C core) give no coverage feedback.
        with atheris.instrument_imports(include=INSTRUMENTED):
            for module in INSTRUMENTED:
                __import__(module)
    child.setup()
    child.flush()
    if engine == "atheris":
        child.run_atheris(rng)
    else:
        child.run_random(rng)
    return 0


# ============================================================================= parent
def classify_death(returncode: int, log_tail: str) -> str:
    if "Timeout (" in log_tail or "ALARM: working on the last Unit" in log_tail:
        return "hang"
    if "out-of-memory" in log_tail or "MemoryError" in log_tail or "std::bad_alloc" in log_tail:
        return "memory"
    if returncode < 0:
        try:
            return f"signal-{signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal-{-returncode}"
    if "deadly signal" in log_tail:
        return "signal"
    return f"exit-{returncode}"


def libfuzzer_progress(logs: list[Path]) -> dict:
    """The last coverage line libFuzzer printed: edges, features, corpus size."""
    import re

    best: dict = {}
    for log in logs:
        for match in re.finditer(r"cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", log.read_text(errors="replace")):
            edges = int(match.group(1))
            if edges >= best.get("edges", -1):
                best = {
                    "edges": edges,
                    "features": int(match.group(2)),
                    "corpus_files": int(match.group(3)),
                    "corpus_size": match.group(4),
                }
    return best


def merge(total: dict, stats: dict) -> None:
    for key in ("inputs", "bytes"):
        total[key] = total.get(key, 0) + stats.get(key, 0)
    for key in ("outcomes", "probe", "complete", "formats", "mutations", "failures"):
        total.setdefault(key, Counter()).update(stats.get(key, {}))
    total["max_rss_kb"] = max(total.get("max_rss_kb", 0), stats.get("max_rss_kb", 0))
    total["slowest"] = sorted(total.get("slowest", []) + stats.get("slowest", []), key=lambda item: -item[0])[:5]
    total["rss_peaks"] = sorted(total.get("rss_peaks", []) + stats.get("rss_peaks", []), key=lambda item: -item[0])[:3]


def parent_main(args) -> int:
    from fuzz.images import all_seeds, guess_suffix

    engines = [resolve_engine(args.engine, slot) for slot in range(args.jobs)]
    engine = "+".join(sorted(set(engines)))
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    work, crashes = args.out / "decode", args.out / "crashes"
    for path in (work / "logs", work / "seeds", work / "stats", crashes):
        path.mkdir(parents=True, exist_ok=True)
    for old in list((work / "stats").glob("*.json")) + list((work / "logs").glob("*.log")):
        old.unlink()
    known_crashes = set(crashes.iterdir())
    if "atheris" in engines:
        for item in all_seeds(full_photos=not args.no_full_photos):
            (work / "seeds" / item.name).write_bytes(item.data)
    started = time.time()
    deadline = started + args.seconds
    print(
        f"decode fuzz: engine {engine}, {args.jobs} process(es), {args.seconds:.0f} s, memory cap {args.memory_mb} MB, "
        f"timeout {args.timeout:g} s/input, seed {seed}"
    )

    deaths: list[dict] = []
    running: dict[int, tuple[subprocess.Popen, Path, Path, float]] = {}
    generation = 0

    def start(slot: int) -> None:
        nonlocal generation
        generation += 1
        stats_file = work / "stats" / f"child-{slot}-{generation}.json"
        log = work / "logs" / f"child-{slot}-{generation}.log"
        command = [
            sys.executable,
            "-m",
            "fuzz.decode_fuzz",
            "--child",
            str(slot),
            "--deadline",
            str(deadline),
            "--stats-file",
            str(stats_file),
            "--engine",
            engines[slot],
            "--memory-mb",
            str(args.memory_mb),
            "--timeout",
            str(args.timeout),
            "--seed",
            str(seed + generation * 7919 + slot),
            "--out",
            str(args.out),
        ]
        if args.max_pixels:
            command += ["--max-pixels", str(args.max_pixels)]
        if args.no_full_photos:
            command.append("--no-full-photos")
        if args.selftest and generation == 1:  # once: the restarted child fuzzes normally
            command += ["--selftest", args.selftest]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "PYTHONFAULTHANDLER": "1",
        }
        with open(log, "wb") as handle:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        running[slot] = (process, log, stats_file, time.time())

    for slot in range(args.jobs):
        start(slot)
    while running:
        time.sleep(0.2)
        for slot, (process, log, _stats_file, _since) in list(running.items()):
            returncode = process.poll()
            if returncode is None:
                if time.time() > deadline + args.timeout + 120:  # a child that ignores its deadline
                    os.killpg(process.pid, signal.SIGKILL)
                continue
            del running[slot]
            if returncode != 0:
                tail = log.read_text(errors="replace")[-6000:]
                kind = classify_death(returncode, tail)
                inflight = work / f"inflight-{slot}.bin"
                data = inflight.read_bytes() if inflight.exists() else b""
                description = (work / f"inflight-{slot}.txt").read_text() if (work / f"inflight-{slot}.txt").exists() else ""
                digest = hashlib.sha1(data).hexdigest()[:12]
                path = crashes / f"{kind}-{digest}{guess_suffix(data)}"
                path.write_bytes(data)
                path.with_suffix(path.suffix + ".txt").write_text(
                    f"{kind} (exit {returncode})\ninput: {description}\n\n{tail[-4000:]}\n"
                )
                deaths.append({"kind": kind, "input": description, "saved": str(path)})
                print(f"  child died: {kind} on {description} -> {path}")
            if time.time() < deadline - 1:
                start(slot)

    total: dict = {}
    by_engine: dict = {}
    for stats_file in sorted((work / "stats").glob("*.json")):
        stats = json.loads(stats_file.read_text())
        merge(total, stats)
        slot_engine = engines[int(stats_file.stem.split("-")[1])]
        merge(by_engine.setdefault(slot_engine, {}), stats)
    for death in deaths:
        total.setdefault("failures", Counter())[death["kind"]] += 1
        total["inputs"] = total.get("inputs", 0) + 1  # the input that killed the child was never counted
    elapsed = time.time() - started
    new_crashes = sorted(str(p) for p in set(crashes.iterdir()) - known_crashes if not p.name.endswith(".txt"))
    summary = {
        "engine": engine,
        "seed": seed,
        "seconds": round(elapsed, 1),
        "jobs": args.jobs,
        "memory_cap_mb": args.memory_mb,
        "timeout_s": args.timeout,
        "inputs": total.get("inputs", 0),
        "inputs_per_s": round(total.get("inputs", 0) / max(elapsed, 1e-9), 1),
        "megabytes": round(total.get("bytes", 0) / 1e6, 1),
        "outcomes": dict(total.get("outcomes", {})),
        "by_engine": {
            name: {"inputs": part.get("inputs", 0), "outcomes": dict(part.get("outcomes", {}))}
            for name, part in by_engine.items()
        },
        "probe": dict(total.get("probe", {})),
        "complete": dict(total.get("complete", {})),
        "formats": dict(total.get("formats", {})),
        "mutations": dict(total.get("mutations", {})),
        "failures": dict(total.get("failures", {})),
        "child_deaths": deaths,
        "max_rss_mb": round(total.get("max_rss_kb", 0) / 1024, 1),
        "coverage": libfuzzer_progress(sorted((work / "logs").glob("child-0-*.log"))) if engines[0] == "atheris" else {},
        "slowest_ms": total.get("slowest", []),
        "rss_peaks_mb": total.get("rss_peaks", []),
        "new_crash_files": new_crashes,
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=1))
    print_summary(summary)
    return 1 if summary["failures"] or not summary["inputs"] else 0


def print_summary(summary: dict) -> None:
    print("\n== decode fuzz ==")
    print(
        f"inputs: {summary['inputs']} in {summary['seconds']} s ({summary['inputs_per_s']}/s, {summary['megabytes']} MB), "
        f"engine {summary['engine']}, seed {summary['seed']}"
    )
    print(f"decode outcomes: {summary['outcomes']}")
    if len(summary.get("by_engine", {})) > 1:
        for name, part in summary["by_engine"].items():
            print(f"  {name}: {part['inputs']} inputs, {part['outcomes']}")
    print(f"probe outcomes:  {summary['probe']}")
    print(f"upload completeness check (after probe ok): {summary['complete']}")
    print(f"formats (probe ok): {summary['formats']}")
    print(f"mutations applied: {summary['mutations']}")
    if summary.get("coverage"):
        cov = summary["coverage"]
        print(
            f"coverage (instrumented Python): {cov['edges']} edges, {cov['features']} features, corpus {cov['corpus_files']} files / {cov['corpus_size']}"
        )
    print(f"max RSS of a fuzzing process: {summary['max_rss_mb']} MB (cap {summary['memory_cap_mb']} MB address space)")
    print("inputs that set the RSS high-water mark:")
    for mb, description in summary.get("rss_peaks_mb", []):
        print(f"  {mb:9.1f} MB  {description}")
    print("slowest inputs:")
    for ms, description in summary["slowest_ms"]:
        print(f"  {ms:9.1f} ms  {description}")
    failures = summary["failures"]
    print(f"failures: {failures or 'none'}")
    for path in summary["new_crash_files"][:20]:
        print(f"  saved {path}")
    print(f"verdict: {'FAIL' if failures else 'PASS'}")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return child_main(args)
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
