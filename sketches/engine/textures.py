"""Procedural, seeded textures: paper grain, hatching, canvas, stipple screens.

Nothing is loaded from files. Each texture is drawn as random values on a coarse grid and
resized up, which is cheap at 12 MP. Results are cached per (kind, shape, seed, params) in a
small byte-bounded LRU so that batches of same-sized photos (phone cameras) reuse them;
cached arrays are read-only so that no caller can corrupt them.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable

import cv2
import numpy as np

F32 = np.float32

_CACHE_BYTES = 64 * 1024 * 1024  # ~5 full-size 12 MP textures; bounded so workers stay lean
_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def cached(key: tuple, make: Callable[[], np.ndarray]) -> np.ndarray:
    """``make()``'s read-only result, kept in the byte-bounded LRU under ``key`` (seeded textures only)."""
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    value = make()
    value.setflags(write=False)
    if value.nbytes <= _CACHE_BYTES // 3:
        with _cache_lock:
            _cache[key] = value
            while sum(v.nbytes for v in _cache.values()) > _CACHE_BYTES:
                _cache.popitem(last=False)
    return value


def _rng(seed: int, salt: int) -> np.random.Generator:
    return np.random.default_rng([seed, salt])


def stats(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation from a strided sample (full-size reductions are slow)."""
    step = max(1, int(math.sqrt(x.shape[0] * x.shape[1] / 65536)))
    sample = x[::step, ::step]
    return float(sample.mean()), float(sample.std())


def normalise(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit standard deviation (a flat field stays flat)."""
    mean, sd = stats(x)
    return cv2.addWeighted(x, 1.0 / max(sd, 1e-6), x, 0.0, -mean / max(sd, 1e-6))


def to_u8(x: np.ndarray, std: float, mean: float = 128.0) -> np.ndarray:
    """Normalise a field straight into uint8 with the given mean and spread, one pass."""
    m, sd = stats(x)
    a = std / max(sd, 1e-6)
    return cv2.addWeighted(x, a, x, 0.0, mean - a * m, dtype=cv2.CV_8U)


def value_noise(shape: tuple[int, int], cell: float, seed: int, salt: int) -> np.ndarray:
    """Smooth noise with features about ``cell`` pixels wide: zero mean, unit std, float32."""
    h, w = shape
    cell = max(cell, 1.0)
    gh, gw = max(2, math.ceil(h / cell) + 1), max(2, math.ceil(w / cell) + 1)
    # normalised on the small grid; resizing keeps the mean and shrinks the spread a little
    grid = _rng(seed, salt).standard_normal((gh, gw), dtype=F32)
    if cell <= 1.0:
        return cv2.resize(grid, (w, h), interpolation=cv2.INTER_AREA)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def fbm(shape: tuple[int, int], cell: float, seed: int, salt: int, octaves: int = 3, gain: float = 0.5) -> np.ndarray:
    """Fractal noise: octaves of value noise, each half the size and ``gain`` the amplitude."""
    acc = value_noise(shape, cell, seed, salt * 16)
    amp = 1.0
    for o in range(1, octaves):
        amp *= gain
        acc = cv2.scaleAdd(value_noise(shape, cell / 2**o, seed, salt * 16 + o), amp, acc)
    return normalise(acc)


def _reduced(shape: tuple[int, int], u: float, feature: float) -> tuple[tuple[int, int], bool]:
    """Size at which a texture whose smallest feature is ``feature`` reference pixels still has
    >= 2.5 px per feature; textures are drawn there and resized up (4-10x cheaper at 12 MP)."""
    h, w = shape
    f = max(1.0, feature * u / 2.5)
    small = (max(2, round(h / f)), max(2, round(w / f)))
    return small, small != (h, w)


def _up(x8: np.ndarray, shape: tuple[int, int], smooth: bool = False) -> np.ndarray:
    if x8.shape[:2] == shape:
        return x8
    interp = cv2.INTER_CUBIC if smooth else cv2.INTER_LINEAR
    return cv2.resize(x8, (shape[1], shape[0]), interpolation=interp)


def paper_grain(shape: tuple[int, int], u: float, seed: int) -> np.ndarray:
    """Paper tooth as uint8 (128 = mean, std ~36): fine bumps plus faint mottling of the sheet."""

    def make() -> np.ndarray:
        small, _ = _reduced(shape, u, 1.4)
        us = u * small[0] / shape[0]
        # the tooth never gets finer than ~2 px, or small pictures turn into pixel noise
        fine = value_noise(small, max(1.4 * us, 2.0), seed, 11)
        mid = value_noise(small, max(4.0 * us, 4.0), seed, 12)
        cloud = value_noise(small, 60.0 * us, seed, 13)
        g = cv2.addWeighted(fine, 0.65, mid, 0.6, 0.0)
        g = cv2.scaleAdd(cloud, 0.25, g)
        return _up(to_u8(g, 36.0), shape)

    return cached(("grain", shape, seed, round(u, 3)), make)


def cells(shape: tuple[int, int], u: float, seed: int, spacing: float = 2.2) -> np.ndarray:
    """Honeycomb paper tooth (Mi-Teintes style): uint8 height, high at cell centres, low along
    the cell walls (distance to jittered seed points, inverted), mean ~128."""

    def make() -> np.ndarray:
        # cells >= ~7 px at the reduced size; smooth enough for a bicubic resize
        (h, w), _ = _reduced(shape, u, spacing * 0.9)
        s = max(3.0, spacing * u * h / shape[0])
        rng = _rng(seed, 45)
        ny, nx = math.ceil(h / s) + 1, math.ceil(w / s) + 1
        gy, gx = np.mgrid[0:ny, 0:nx] * s
        jit = rng.uniform(-0.4, 0.4, (2, ny, nx)) * s
        seeds = np.full((h, w), 255, np.uint8)
        seeds[np.clip(np.round(gy + jit[1]).astype(int), 0, h - 1), np.clip(np.round(gx + jit[0]).astype(int), 0, w - 1)] = 0
        dist = cv2.distanceTransform(seeds, cv2.DIST_L2, 3)
        dist = cv2.GaussianBlur(dist, (0, 0), 0.6)
        dist = cv2.scaleAdd(value_noise((h, w), 3.0 * s, seed, 46), 0.12 * s, dist)
        return _up(to_u8(dist, -36.0), shape, smooth=True)

    return cached(("cells", shape, seed, round(u, 3), spacing), make)


def relief(height8: np.ndarray, strength: float, angle_deg: float = 135.0) -> np.ndarray:
    """Light a height map from one side (emboss): uint8 shading, 128 = flat."""
    ca, sa = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    k = np.zeros((3, 3), F32)
    k[1 + round(sa), 1 + round(ca)] = -1.0
    k[1 - round(sa), 1 - round(ca)] = 1.0
    d = cv2.filter2D(height8, cv2.CV_16S, k)
    return cv2.addWeighted(d, strength, d, 0.0, 128.0, dtype=cv2.CV_8U)


def hatching(
    shape: tuple[int, int], u: float, angle_deg: float, seed: int, length: float = 18.0, width: float = 1.0
) -> np.ndarray:
    """Pencil hatching: noise stretched along ``angle`` into strokes. uint8, 128 = mean.

    Drawn at a reduced size (strokes are smooth) with an oriented line kernel, then resized.
    """

    def make() -> np.ndarray:
        (sh, sw), _ = _reduced(shape, u, width * 1.2)
        f = shape[0] / sh
        n = _rng(seed, 21 + int(angle_deg)).random((sh, sw), dtype=F32)
        L = max(3, int(length * u / f) | 1)
        k = np.zeros((L, L), F32)
        ca, sa = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
        c = (L - 1) / 2
        t = np.linspace(-c, c, 4 * L)
        taper = np.hanning(len(t)) + 0.05
        xs = np.clip(np.round(c + t * ca).astype(int), 0, L - 1)
        ys = np.clip(np.round(c - t * sa).astype(int), 0, L - 1)
        np.add.at(k, (ys, xs), taper.astype(F32))
        k /= k.sum()
        s = cv2.filter2D(n, -1, k, borderType=cv2.BORDER_REFLECT)
        return _up(to_u8(s, 40.0), shape)

    return cached(("hatch", shape, seed, round(u, 3), angle_deg, length, width), make)


def canvas(shape: tuple[int, int], u: float, seed: int) -> np.ndarray:
    """Woven canvas as uint8 height (128 = mean): crossing threads with irregular thickness."""

    def make() -> np.ndarray:
        (h, w), _ = _reduced(shape, u, 1.5)
        us = u * h / shape[0]
        period = max(2.5, 4.0 * us)
        rng = _rng(seed, 31)
        # threads wobble in width: jitter the phase of each row/column slightly
        x = np.arange(w, dtype=F32) * F32(2 * math.pi / period) + rng.normal(0, 0.25, w).astype(F32)
        y = np.arange(h, dtype=F32) * F32(2 * math.pi / period) + rng.normal(0, 0.25, h).astype(F32)
        cx, sx = np.cos(x), np.sin(x)
        cy, sy = np.cos(y), np.sin(y)
        # over-under weave: warp threads show on one diagonal of each cell, weft on the other
        weave = np.abs(cy[:, None] * F32(0.6) + sx[None, :] * F32(0.6)) + cx[None, :] * sy[:, None] * F32(0.4)
        weave = cv2.scaleAdd(value_noise((h, w), 3.0 * us, seed, 32), 0.35, weave)
        return _up(to_u8(weave, 36.0), shape)

    return cached(("canvas", shape, seed, round(u, 3)), make)


def stipple_screen(shape: tuple[int, int], u: float, seed: int, spacing: float = 5.0) -> np.ndarray:
    """Threshold screen for stippling: uint8, ink where darkness * 255 > screen.

    Dots sit on a jittered grid; each has a random rank, so light tones get a few sparse dots
    (density, as a stippler works) and dark tones get all of them, grown until they merge.
    """

    def make() -> np.ndarray:
        (h, w), _ = _reduced(shape, u, spacing / 3.0)
        s = max(4.0, spacing * u) * h / shape[0]
        rng = _rng(seed, 41)
        ny, nx = math.ceil(h / s) + 1, math.ceil(w / s) + 1
        gy, gx = np.mgrid[0:ny, 0:nx] * s
        jit = rng.uniform(-0.3, 0.3, (2, ny, nx)) * s
        px = np.clip(np.round(gx + jit[0]).astype(int), 0, w - 1)
        py = np.clip(np.round(gy + jit[1]).astype(int), 0, h - 1)
        seeds = np.full((h, w), 255, np.uint8)
        seeds[py, px] = 0
        dist = cv2.distanceTransform(seeds, cv2.DIST_L2, 3)
        # rank of the dot that owns each pixel (the grid cell it falls in)
        iy = np.minimum(((np.arange(h) + s / 2) // s).astype(int), ny - 1)
        ix = np.minimum(((np.arange(w) + s / 2) // s).astype(int), nx - 1)
        rank = rng.random((ny, nx), dtype=F32)[iy[:, None], ix[None, :]]
        screen = cv2.addWeighted(rank, 0.55, dist, 0.45 / (0.6 * s), 0.0)
        return _up(cv2.addWeighted(screen, 255.0, screen, 0.0, 0.0, dtype=cv2.CV_8U), shape)

    return cached(("stipple", shape, seed, round(u, 3), spacing), make)


def line_screen(
    shape: tuple[int, int], u: float, angle_deg: float, seed: int, spacing: float = 5.0, wobble: float = 0.6
) -> np.ndarray:
    """Threshold screen for pen hatching: distance to the nearest of parallel lines.

    uint8, 0 on a line centre, 255 half-way between lines. Ink where darkness * 255 > screen:
    lines thicken with darkness. A slow wobble of the phase makes them look hand-drawn.
    """

    def make() -> np.ndarray:
        (h, w), _ = _reduced(shape, u, spacing / 2.5)
        # lines closer than ~4 px alias into moire on small pictures
        period = max(4.0, spacing * u) * h / shape[0]
        a = math.radians(angle_deg)
        x = np.arange(w, dtype=F32) * F32(math.cos(a) / period)
        y = np.arange(h, dtype=F32) * F32(-math.sin(a) / period)
        phase = y[:, None] + x[None, :]
        phase += value_noise((h, w), 30.0 * period / spacing, seed, 61 + int(angle_deg)) * F32(0.12 * wobble)
        # raised cosine: 0 on a line centre, 1 half-way between lines. Smooth, so it
        # survives resizing (a sharp triangle would lose its tips and break lines into dots)
        d = np.cos(phase * F32(2 * math.pi))
        # bicubic: bilinear leaves a zipper along diagonal lines once thresholded
        return _up(cv2.addWeighted(d, -127.5, d, 0.0, 127.5, dtype=cv2.CV_8U), shape, smooth=True)

    return cached(("lines", shape, seed, round(u, 3), angle_deg, spacing, wobble), make)
