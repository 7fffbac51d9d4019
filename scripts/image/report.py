"""Where the image tooling keeps its files, and how it prints progress."""

import time
from pathlib import Path

WORK_DIR = Path(__file__).resolve().parents[2] / "var" / "image"


def log(message: str) -> None:
    print(f"[image {time.strftime('%H:%M:%S')}] {message}", flush=True)
