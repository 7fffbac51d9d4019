"""Short versions of `make fuzz` for the decoder: same mutations, same oracle, a few seconds.

The long run is ``python -m fuzz.decode_fuzz`` (coverage-guided with atheris, 120 s by default).
"""

import json
import random
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from fuzz.images import MUTATIONS, all_seeds, check, generated_seeds, mutate

ROOT = Path(__file__).resolve().parents[2]
MAX_PIXELS = 50_000_000


@pytest.fixture(scope="module")
def small_seeds():
    return [seed for seed in all_seeds(full_photos=False) if len(seed.data) <= 128 * 1024]


def test_every_seed_decodes_or_is_refused_by_type(small_seeds):
    verdicts = {seed.name: check(seed.data, MAX_PIXELS) for seed in small_seeds}
    refused = {name for name, verdict in verdicts.items() if verdict.outcome != "decoded"}
    # Only the formats outside the allow-list are refused; every generated variant decodes.
    assert refused == {"gen.bmp", "gen.tiff", "gen.svg", "gen-avif-brand.heic"}
    assert all(verdicts[name].outcome == "UnsupportedImage" for name in refused)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_changes_inputs_and_keeps_errors_typed(mutation, small_seeds):
    rng = random.Random(mutation)
    others = [seed.data for seed in small_seeds]
    changed = 0
    for seed in small_seeds:
        data = MUTATIONS[mutation](seed.data, rng, others) if mutation == "splice" else MUTATIONS[mutation](seed.data, rng)
        changed += data != seed.data
        check(data, MAX_PIXELS)  # raises on anything but an array or a typed ImageError
    assert changed >= len(small_seeds) * 0.8


def test_stacked_mutations_in_process(small_seeds):
    """3000 stacked mutations, deterministic: every answer is an RGB array or a typed error."""
    rng = random.Random(20261125)
    others = [seed.data for seed in small_seeds]
    outcomes, failures = {}, []
    for i in range(3000):
        seed = rng.choice(small_seeds)
        data, names = mutate(seed.data, rng, others)
        try:
            verdict = check(data, MAX_PIXELS)
        except Exception as exc:  # OracleViolation included: report every kind the same way
            failures.append(f"#{i} {seed.name} + {names}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}")
            continue
        outcomes[verdict.outcome] = outcomes.get(verdict.outcome, 0) + 1
    assert not failures, "\n".join(failures[:5])
    # The mix reaches every kind of answer, or the mutations have stopped doing their job.
    assert set(outcomes) == {"decoded", "CorruptImage", "UnsupportedImage", "ImageTooLarge"}, outcomes


def test_dimension_edits_hit_the_pixel_limit_before_decoding():
    """Headers claiming huge images are refused from the header for every format."""
    rng = random.Random(7)
    too_large = set()
    for seed in generated_seeds():
        for _ in range(60):
            data = MUTATIONS["dimensions"](seed.data, rng)
            verdict = check(data, 1_000_000)
            if verdict.outcome == "ImageTooLarge":
                too_large.add(verdict.format)
    assert {"jpeg", "png", "gif", "webp", "heif"} <= too_large


SELFTESTS = {"hang": "hang", "segv": "signal-SIGSEGV", "memory": "memory", "untyped": "untyped-ValueError"}


@pytest.fixture(scope="module")
def fuzz_runs(tmp_path_factory):
    """Five short runs of the real fuzzer, side by side: one clean, four that misbehave on purpose."""
    runs = {"clean": ["--seconds", "6", "--timeout", "5", "--memory-mb", "2048"]}
    for kind in SELFTESTS:
        runs[kind] = ["--seconds", "3", "--timeout", "1", "--memory-mb", "1024", "--selftest", kind]
    processes = {}
    for name, extra in runs.items():
        out = tmp_path_factory.mktemp(f"fuzz-{name}")
        command = [
            sys.executable,
            "-m",
            "fuzz.decode_fuzz",
            "--engine",
            "random",
            "--no-full-photos",
            "--seed",
            "1",
            "--out",
            str(out),
            *extra,
        ]
        processes[name] = (subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), out)
    results = {}
    for name, (process, out) in processes.items():
        output, _ = process.communicate(timeout=180)
        summary_path = out / "decode" / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        results[name] = (process.returncode, output, summary, out)
    return results


def test_decode_fuzzer_runs_clean_under_memory_cap(fuzz_runs):
    returncode, output, summary, out = fuzz_runs["clean"]
    assert returncode == 0, output
    assert summary["failures"] == {}
    assert summary["inputs"] >= 100, summary  # the fuzzer really ran (290 in 6 s on a loaded 2-core machine)
    assert summary["max_rss_mb"] < 2048
    assert not list((out / "crashes").iterdir())


@pytest.mark.parametrize("kind", sorted(SELFTESTS))
def test_harness_catches_and_saves_misbehaviour(fuzz_runs, kind):
    """The harness itself: a hang, a crash, a memory blow-up and an untyped error each fail the run
    and leave the input that caused them in crashes/."""
    returncode, output, summary, out = fuzz_runs[kind]
    expected = SELFTESTS[kind]
    assert returncode == 1, output
    assert expected in summary["failures"], summary
    saved = [p for p in (out / "crashes").iterdir() if p.name.startswith(expected) and not p.name.endswith(".txt")]
    assert saved and saved[0].stat().st_size > 0
