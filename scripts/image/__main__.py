"""python -m scripts.image build [--tag TAG] | smoke [--photo PATH]"""

import argparse
import sys
import time

from .base import choose_base
from .engine import EngineError, detect
from .report import WORK_DIR, log


def build(argv: list[str]) -> int:
    from .build import build_image

    parser = argparse.ArgumentParser(prog="python -m scripts.image build", description="Build the image (make image).")
    parser.add_argument("--tag", default="localhost/sketch-studio:latest")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        engine = detect(WORK_DIR)
        base, base_steps = choose_base(engine, WORK_DIR, log)
        for name, seconds in base_steps.items():
            log(f"{name}: {seconds:.1f} s")
        seconds = build_image(engine, args.tag, base, WORK_DIR, log)
        log(f"build: {seconds:.1f} s")
        log(f"{args.tag} on {base}: {engine.image_size(args.tag) / 1e6:.0f} MB; total {time.monotonic() - started:.1f} s")
    except (EngineError, RuntimeError) as failure:
        print(f"make image: FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "build":
        return build(rest)
    if command == "smoke":
        from .smoke import main as smoke

        return smoke(rest)
    print(__doc__, file=sys.stderr)
    return 64


sys.exit(main())
