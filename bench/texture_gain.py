"""Texture gain: how much texture a look invents from sensor noise.

Phone photos carry noise in skies, walls and skin. A look should draw the sky, not the noise:
render a smooth colour gradient clean and with spatially correlated noise (std 3 levels, as
after demosaicing and JPEG) and compare the two renders block by block. Seeded textures are the
same in both renders, so only the noise's effect counts.

    gain = mean over 16x16 blocks of max(0, std(luma noisy) - std(luma clean)) / 3

1.0 passes the noise through unchanged; more means the look turns noise into texture.

    python bench/texture_gain.py [--size 3000x2000] [--looks ink/basic,pencil/basic]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sketches.engine import render  # noqa: E402
from sketches.engine.catalog import METHOD_IDS, STYLE_IDS  # noqa: E402

NOISE_STD = 3.0
NOISE_BLUR = 1.5  # px: neighbouring pixels' noise is correlated, as after demosaicing and JPEG
BLOCK = 16


def gradient(width: int, height: int) -> np.ndarray:
    """A smooth sky-like colour gradient: hue across, brightness down, no edges anywhere."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    rgb = np.dstack([90 + 120 * u + 20 * v, 140 + 60 * v - 30 * u, 230 - 70 * u - 40 * v])
    return np.clip(rgb, 0, 255)


def correlated_noise(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 1.0, shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), NOISE_BLUR)
    return noise * (NOISE_STD / noise.std())


def _luma(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float32)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _block_std(luma: np.ndarray) -> np.ndarray:
    h, w = (luma.shape[0] // BLOCK) * BLOCK, (luma.shape[1] // BLOCK) * BLOCK
    blocks = luma[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK)
    return blocks.std(axis=(1, 3))


@functools.lru_cache(maxsize=2)
def inputs(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The clean gradient and its noisy copy, uint8 RGB (made once per size)."""
    clean = gradient(width, height)
    noisy = clean + correlated_noise(clean.shape)
    return np.round(clean).astype(np.uint8), np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def texture_gain(style: str, method: str, width: int = 3000, height: int = 2000) -> float:
    clean, noisy = inputs(width, height)
    out_clean = render(clean, style, method, seed=7)
    out_noisy = render(noisy, style, method, seed=7)
    excess = np.maximum(0.0, _block_std(_luma(out_noisy)) - _block_std(_luma(out_clean)))
    return float(excess.mean() / NOISE_STD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="3000x2000", help="WIDTHxHEIGHT of the gradient")
    parser.add_argument("--looks", default="", help="comma-separated style/method (default: all 21)")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    looks = [tuple(s.split("/")) for s in args.looks.split(",") if s] or [(s, m) for s in STYLE_IDS for m in METHOD_IDS]
    worst = 0.0
    for style, method in looks:
        gain = texture_gain(style, method, width, height)
        worst = max(worst, gain)
        print(f"{style + '/' + method:22s} {gain:6.2f}{'  > 1.0' if gain > 1.0 else ''}", flush=True)
    print(f"worst {worst:.2f}")


if __name__ == "__main__":
    main()
