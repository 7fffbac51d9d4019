"""Engine benchmark: every style x method at ~1 MP and 12 MP, against the JPEG floor.

    python bench/engine_bench.py [--quick] [--output docs/BENCHMARKS.md]

The 12 MP input is a test photo (tests/photos) resized to 4000x3000 and JPEG-encoded at quality 90. For
each look it measures, with 1 and 2 OpenCV threads:

* render time (median of a few runs; the texture cache is cleared before every run, so these
  are cold numbers, what the first photo of a given size costs),
* the whole job, decode + render + encode (JPEG q90), as a ratio to the *floor*: decode +
  encode of the same JPEG with no rendering, measured in the same run;
* the peak RSS of a fresh process that decodes, renders and encodes the 12 MP photo once
  (VmHWM of the child: the interpreter, OpenCV and NumPy included);
* the texture gain at 3000x2000 (bench/texture_gain.py: how much texture the look invents from
  sensor noise on a smooth gradient; budget <= 1.0).

Budgets (ratio to the floor, 2 threads, 12 MP): basic <= 4x, advanced <= 12x, artistic <= 20x;
peak RSS <= 600 MB. ``--quick`` runs only the 1 MP pass (a smoke test, no budgets).
Results are printed and, with --output, written to the "## Engine" section of the markdown
file (other sections of the file are kept as they are).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sketches.engine import decode, encode, render  # noqa: E402
from sketches.engine.catalog import METHOD_IDS, STYLE_IDS  # noqa: E402
from sketches.engine.textures import clear_cache  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from texture_gain import texture_gain  # noqa: E402

GAIN_SIZE = (3000, 2000)
GAIN_BUDGET = 1.0

PHOTO = ROOT / "tests" / "photos" / "forest-path.jpg"
BUDGET = {"basic": 4.0, "advanced": 12.0, "artistic": 20.0}
RSS_BUDGET_MB = 600
SIZES = {"1MP": (1155, 866), "12MP": (4000, 3000)}

# Peak RSS of the child: VmHWM of its own address space. (ru_maxrss would also count the
# parent's pages if the child was forked from this big process before exec.)
_CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from sketches.engine import decode, encode, render

def peak_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

data = open(sys.argv[2], "rb").read()
base = peak_mb()
out = encode(render(decode(data), sys.argv[3], sys.argv[4]), "jpeg", 90)
print(json.dumps({"base_mb": base, "peak_mb": peak_mb()}))
"""


def make_jpeg(size: tuple[int, int]) -> bytes:
    bgr = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {PHOTO}")
    interp = cv2.INTER_CUBIC if size[0] > bgr.shape[1] else cv2.INTER_AREA
    ok, buf = cv2.imencode(".jpg", cv2.resize(bgr, size, interpolation=interp), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def timed(fn, repeats: int) -> tuple[float, float, float]:
    """Median wall time, median CPU time (all threads of this process) and best wall time, ms."""
    walls, cpus = [], []
    for _ in range(repeats):
        clear_cache()
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - t) * 1000.0)
        cpus.append((time.process_time() - c) * 1000.0)
    return statistics.median(walls), statistics.median(cpus), min(walls)


def measure(data: bytes, repeats: int, threads: int) -> dict:
    cv2.setNumThreads(threads)
    img = decode(data)
    mp = img.shape[0] * img.shape[1] / 1e6
    floor, floor_cpu, floor_best = timed(lambda: encode(decode(data), "jpeg", 90), repeats + 2)
    rows = {}
    for s in STYLE_IDS:
        for m in METHOD_IDS:
            render_ms, render_cpu, _ = timed(lambda s=s, m=m: render(img, s, m), repeats)
            total_ms, total_cpu, total_best = timed(lambda s=s, m=m: encode(render(decode(data), s, m), "jpeg", 90), repeats)
            rows[(s, m)] = {
                "render_ms": render_ms,
                "total_ms": total_ms,
                "ratio": total_ms / floor,
                "ms_per_mp": render_ms / mp,
                "render_cpu": render_cpu,
                "ratio_cpu": total_cpu / floor_cpu,
                "ratio_best": total_best / floor_best,
            }
            print(
                f"  {threads} thr {s:10s} {m:9s} render {render_ms:7.0f} ms (cpu {render_cpu:6.0f})  "
                f"total {total_ms:7.0f} ms  x{total_ms / floor:5.1f}",
                flush=True,
            )
    return {"floor_ms": floor, "floor_cpu": floor_cpu, "mp": mp, "rows": rows}


def peak_rss(data: bytes) -> dict:
    path = ROOT / "var" / "bench-12mp.jpg"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    out = {}
    for s in STYLE_IDS:
        for m in METHOD_IDS:
            r = subprocess.run(
                [sys.executable, "-c", _CHILD, str(ROOT), str(path), s, m], capture_output=True, text=True, check=True
            )
            out[(s, m)] = json.loads(r.stdout.strip().splitlines()[-1])
    path.unlink()
    return out


def load() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _load1(text: str) -> float:
    try:
        return float(text.split("/")[0])
    except ValueError:
        return 0.0


def markdown(results: dict, quick: bool) -> str:
    env = results["env"]
    lines = [
        "## Engine",
        "",
        f"`python bench/engine_bench.py{' --quick' if quick else ''}` on {env['cpu']} ({env['cores']} cores), "
        f"Python {env['python']}, OpenCV {env['opencv']}, NumPy {env['numpy']}; {env['date']}. "
        f"Load average before/after: {env['load_before']} / {env['load_after']} "
        "(other work on the machine inflates wall times, most of all with 2 threads; the *CPU ratio* "
        "uses this process's CPU time with 1 thread and is nearly immune to it).",
        "",
        "Input: `forest-path.jpg` resized and saved as JPEG q90. Render times are medians of cold runs "
        "(texture cache cleared). *Total* = decode + render + JPEG q90 encode of the result; "
        "*floor* = decode + encode with no rendering, measured in the same run; *ratio* = total / floor. "
        "Budgets at 12 MP with 2 threads: basic <= 4x, advanced <= 12x, artistic <= 20x; "
        f"peak RSS <= {RSS_BUDGET_MB} MB (VmHWM of a fresh process that decodes, renders and "
        "encodes one 12 MP photo; includes the interpreter, OpenCV and NumPy, ~105 MB before decoding).",
        "",
    ]
    for size in results["sizes"]:
        r1, r2 = results[size]["1"], results[size]["2"]
        lines.append(
            f"### {size} ({r2['mp']:.1f} MP) - floor {r2['floor_ms']:.0f} ms (2 threads), {r1['floor_ms']:.0f} ms (1 thread)"
        )
        lines.append("")
        big = size == "12MP"
        if not big:
            lines.append("Budgets apply at 12 MP only: at 1 MP the floor is a few ms, so ratios are large.")
            lines.append("")
        head = [
            "style",
            "method",
            "render ms 1thr",
            "render ms 2thr",
            "ms/MP 1thr",
            "ms/MP 2thr",
            "ratio 1thr",
            "ratio 2thr",
            "CPU ratio 1thr",
        ]
        if big:
            head += ["budget", "peak RSS MB", "texture gain", "result"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] * len(head)) + "|")
        for s in STYLE_IDS:
            for m in METHOD_IDS:
                a, b = r1["rows"][(s, m)], r2["rows"][(s, m)]
                cells = [
                    s,
                    m,
                    f"{a['render_ms']:.0f}",
                    f"{b['render_ms']:.0f}",
                    f"{a['ms_per_mp']:.0f}",
                    f"{b['ms_per_mp']:.0f}",
                    f"{a['ratio']:.1f}x",
                    f"{b['ratio']:.1f}x",
                    f"{a['ratio_cpu']:.1f}x",
                ]
                if big:
                    rss = results["rss"][(s, m)]["peak_mb"]
                    gain = results["gain"][(s, m)]
                    ok = b["ratio"] <= BUDGET[m] and rss <= RSS_BUDGET_MB and gain <= GAIN_BUDGET
                    cells += [f"{BUDGET[m]:.0f}x", f"{rss:.0f}", f"{gain:.2f}", "PASS" if ok else "FAIL"]
                lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if "12MP" in results["sizes"]:
        r1, r2 = results["12MP"]["1"], results["12MP"]["2"]
        lines.append("Worst look per method at 12 MP (2 threads):")
        lines.append("")
        for m in METHOD_IDS:
            s, row = max(((s, r2["rows"][(s, m)]) for s in STYLE_IDS), key=lambda t: t[1]["ratio"])
            verdict = "PASS" if row["ratio"] <= BUDGET[m] else "FAIL"
            worst_cpu = max(r1["rows"][(x, m)]["ratio_cpu"] for x in STYLE_IDS)
            worst_best = max(r2["rows"][(x, m)]["ratio_best"] for x in STYLE_IDS)
            lines.append(
                f"- {m}: {s} at {row['ratio']:.1f}x the floor ({row['total_ms']:.0f} ms), "
                f"budget {BUDGET[m]:.0f}x - {verdict} (worst best-of-runs ratio, 2 threads: "
                f"{worst_best:.1f}x; worst CPU ratio, 1 thread: {worst_cpu:.1f}x)"
            )
        busy = max(_load1(env["load_before"]), _load1(env["load_after"])) > (env["cores"] or 1)
        if busy:
            lines.append(
                "- **The machine was busy during this run** (load average above the core count): "
                "wall-clock times, the floor included, wait for a CPU, so ratios and PASS/FAIL "
                "verdicts can be off either way. The CPU ratio (1 thread) shows what the job costs "
                "on an idle core."
            )
        worst_rss = max(results["rss"].items(), key=lambda kv: kv[1]["peak_mb"])
        lines.append(
            f"- peak RSS: {worst_rss[1]['peak_mb']:.0f} MB ({'/'.join(worst_rss[0])}), "
            f"budget {RSS_BUDGET_MB} MB - {'PASS' if worst_rss[1]['peak_mb'] <= RSS_BUDGET_MB else 'FAIL'}"
        )
        worst_gain = max(results["gain"].items(), key=lambda kv: kv[1])
        lines.append(
            f"- texture gain ({GAIN_SIZE[0]}x{GAIN_SIZE[1]} gradient, noise std 3): worst {worst_gain[1]:.2f} "
            f"({'/'.join(worst_gain[0])}), budget {GAIN_BUDGET:.1f} - {'PASS' if worst_gain[1] <= GAIN_BUDGET else 'FAIL'}"
        )
        lines.append("")
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace the "## Engine" section (up to the next "## " heading) or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Engine\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip() + "\n\n", text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 MP only (smoke)")
    ap.add_argument("--output", type=Path, help="markdown file to update, e.g. docs/BENCHMARKS.md")
    args = ap.parse_args(argv)

    threads_before = cv2.getNumThreads()
    sizes = ["1MP"] if args.quick else ["1MP", "12MP"]
    results: dict = {
        "sizes": sizes,
        "env": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "opencv": cv2.__version__,
            "numpy": np.__version__,
            "date": time.strftime("%Y-%m-%d"),
            "load_before": load(),
        },
    }
    render(np.zeros((64, 64, 3), np.uint8), "oil", "advanced")  # warm up imports and thread pool
    for size in sizes:
        data = make_jpeg(SIZES[size])
        repeats = 3 if size == "12MP" else 5
        results[size] = {}
        for threads in (1, 2):
            print(f"{size}, {threads} thread(s):", flush=True)
            results[size][str(threads)] = measure(data, repeats, threads)
        if size == "12MP":
            print("peak RSS (fresh process per look)...", flush=True)
            results["rss"] = peak_rss(data)
            print(f"texture gain at {GAIN_SIZE[0]}x{GAIN_SIZE[1]}...", flush=True)
            results["gain"] = {(s, m): texture_gain(s, m, *GAIN_SIZE) for s in STYLE_IDS for m in METHOD_IDS}
    cv2.setNumThreads(threads_before)
    results["env"]["load_after"] = load()
    md = markdown(results, args.quick)
    print()
    print(md)
    if args.output:
        write_section(args.output, md)
        print(f"wrote {args.output}")
    failed = "12MP" in results and "FAIL" in md.split("Worst look per method")[1]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
