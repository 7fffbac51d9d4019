"""Ink: pen lines from an extended difference of Gaussians, solid blacks, hatching/stippling.

Line work is computed at full size (it is the detail); tone screens are cached textures, so
shading is a compare of the tone against the screen.

basic    -- XDoG lines and fills, nothing else.
advanced -- cleaner lines from an edge-preserving smoothed picture, mid-tones as pen hatching,
            cross-hatching in the shadows.
artistic -- bold brush-pen lines, stippled tone, heavier blacks.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops, textures
from .base import Ctx

F32 = np.float32
INK = (18, 18, 26)
PAPER = (252, 250, 244)


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    u = ctx.u
    if method == "basic":
        g = ops.tone(rgb)
    else:
        # flatten textures first so that the pen draws shapes, not noise
        g = ops.tone(_smoothed(rgb))
    ctx.report(0.25)
    sigma = (1.9 - 1.3 * ctx.detail) * u * (1.6 if method == "artistic" else 1.0)
    eps = {"basic": 0.42, "advanced": 0.3, "artistic": 0.36}[method] + 0.12 * (ctx.strength - 0.5)
    lines = ops.xdog(g, sigma, eps=eps, phi=12.0, p=22.0)
    ctx.report(0.6)
    if method == "basic":
        return ops.to_u8(lines)
    # tone to be shaded: the picture's darkness, lightly blurred so screens do not alias detail
    k = ctx.lerp(0.8, 1.15)
    dark = cv2.LUT(ops.to_u8(ops.blur(g, 1.5 * u)), ops.curve_lut(lambda v: (1.0 - v) * k))
    del g
    if method == "advanced":
        shade = _hatch(dark, ctx)
    else:
        shade = _stipple(dark, ctx)
    ctx.report(0.85)
    out = cv2.min(ops.to_u8(lines), shade)
    return ops.tint(out, INK, PAPER)


def _smoothed(rgb: np.ndarray) -> np.ndarray:
    small = ops.resize(rgb, ops.work_size(rgb.shape, 1.0))
    us = ops.unit(small.shape)
    small = ops.bilateral(small, 3.0 * us, 25.0, passes=2)
    return ops.resize(small, ops.size_of(rgb), smooth=True)


def _screen(dark8: np.ndarray, screen: np.ndarray, offset: int, soft: float) -> np.ndarray:
    """Ink where darkness beats the screen; soft edge over ``soft`` levels. 255 = paper."""
    d = cv2.subtract(dark8, screen)
    ink = cv2.subtract(d, offset)
    return cv2.addWeighted(ink, -255.0 / soft, ink, 0.0, 255.0, dtype=cv2.CV_8U)


def _hatch(dark8: np.ndarray, ctx: Ctx) -> np.ndarray:
    shape = dark8.shape
    first = textures.line_screen(shape, ctx.u, 45.0, ctx.seed, spacing=6.0)
    second = textures.line_screen(shape, ctx.u, 135.0, ctx.seed, spacing=6.0)
    # first layer starts in the mid-tones, cross-hatching only in the shadows
    a = _screen(dark8, first, 60, 24.0)
    b = _screen(dark8, second, 130, 24.0)
    return cv2.min(a, b)


def _stipple(dark8: np.ndarray, ctx: Ctx) -> np.ndarray:
    screen = textures.stipple_screen(dark8.shape, ctx.u, ctx.seed, spacing=6.0)
    # dots need some darkness to start; the offset keeps light areas clean paper
    return _screen(dark8, screen, 70, 30.0)
