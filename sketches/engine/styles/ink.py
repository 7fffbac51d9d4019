"""Ink: continuous pen lines, solid blacks and hatching that follows the forms, on clean paper.

Where the pen goes is decided on a calm working copy (about one megapixel, bilateral-smoothed):
lines are the dark lobe of a difference of Gaussians (Winnemoeller et al. 2012) with a dead zone
set above the picture's own noise level, so skies and walls stay paper; in the richer methods the
line response is smoothed along the edge tangent flow (Kang et al. 2007) so lines join up into
continuous strokes. Fields are upsampled and cut with a steep curve at full size: crisp edges.

basic    -- lines and solid black shadows, nothing else.
advanced -- flow-smoothed lines, mid-tones as pen hatching that turns with the forms,
            cross-hatching in the shadows.
artistic -- bold brush-pen lines that swell on strong edges, stippled tone, heavier blacks.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import linework, ops, textures
from .base import Ctx

F32 = np.float32
INK = (18, 18, 26)
PAPER = (252, 250, 244)


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    shape = rgb.shape[:2]
    artistic = method == "artistic"
    g = linework.calm_tone(rgb, 1.0, passes=1 if method == "basic" else 2)
    us = ops.unit(g.shape)
    ctx.report(0.25)
    noise = linework.noise_level(g)
    sigma = (1.7 - 1.0 * ctx.detail) * us * (1.5 if artistic else 1.0)
    floor = float(np.clip(3.0 * noise, 0.004, 0.02)) * (1.3 if artistic else 1.0)
    line = linework.edge_darkness(g, sigma, 1.0 / (0.02 + floor), floor, auto=90.0)
    if method != "basic":
        tx, ty, coh = linework.flow(g, 3.0 * us, 2.0 * noise + 0.002)
        line = linework.join_along_edges(line, tx, ty, coh, 2.5 * sigma, 1.6)
    # solid blacks where the (blurred) tone is deep; strength pushes them up. A fill is a
    # large shape: crumbs of it and pinholes in it (noise where a slow gradient crosses the
    # threshold) are dropped, so its contour is one clean line
    eps = {"basic": 0.2, "advanced": 0.14, "artistic": 0.24}[method] + 0.1 * (ctx.strength - 0.5)
    t = ops.blur(g, 1.2 * us)
    tf = ops.blur(t, 2.5 * us)
    # a picture that stays dark after auto-levels (a forest) still gets bold blacks: up to its
    # darkest tenth is filled (not for ordinary pictures, where that would cut smooth gradients)
    step = max(1, int(4 * us))
    p10, median = (float(v) for v in np.percentile(tf[::step, ::step], [10, 50]))
    dark = float(ops.smoothstep(0.5, 0.42, np.float32(median)))
    eps += dark * max(0.0, min(p10, 0.4) - eps)
    fill = (tf < F32(eps)).astype(F32)
    blob = (12.0 * us) ** 2
    fill = linework.fill_pinholes(linework.keep_strokes(fill, 0.5, 0.5, blob), blob)
    fill = cv2.GaussianBlur(fill, (0, 0), 0.8)  # anti-aliased edge for the cut at full size
    # whole strokes only: weak line parts survive where they continue a strong one; crumbs go
    line = linework.keep_strokes(line, 0.3, 0.75, (4.0 if artistic else 2.5) ** 2 * us * us)
    ink = cv2.max(line, fill)
    ink8 = linework.crisp(linework.up(ops.to_u8(ink), shape), 0.35, 0.6)
    ctx.report(0.6)
    if method == "basic":
        return cv2.bitwise_not(ink8)
    # tone to shade: the calm picture's darkness, blurred so screens do not alias detail
    k = ctx.lerp(0.85, 1.15)
    dark_small = ops.lut_u8(ops.to_u8(ops.blur(t, 1.0 * us)), np.clip((1.0 - np.linspace(0, 1, 256)) * k, 0, 1))
    if method == "advanced":
        shade = _hatch(g, dark_small, shape, ctx)
    else:
        shade = _stipple(linework.up(dark_small, shape), ctx)
    ctx.report(0.85)
    out = cv2.min(cv2.bitwise_not(ink8), shade)
    return ops.tint(out, INK, PAPER)


def _screen(dark8: np.ndarray, screen: np.ndarray, offset: int, soft: float) -> np.ndarray:
    """Ink where darkness beats the screen; soft edge over ``soft`` levels. 255 = paper."""
    d = cv2.subtract(dark8, screen)
    ink = cv2.subtract(d, offset)
    return cv2.addWeighted(ink, -255.0 / soft, ink, 0.0, 255.0, dtype=cv2.CV_8U)


def _hatch(g: np.ndarray, dark_small: np.ndarray, shape: tuple[int, int], ctx: Ctx) -> np.ndarray:
    dark8 = linework.up(dark_small, shape)
    # hatching direction from the broad forms only: a coarse, strongly smoothed flow field
    coarse = ops.resize(g, ops.work_size(g.shape, 0.08))
    uc = ops.unit(coarse.shape)
    tx, ty, coh = linework.flow(coarse, 2.5 * uc, 0.01)
    # first layer along the forms (a fixed 60 degrees where there are none), second across
    a1 = linework.angle_index(tx, ty, coh, 60.0, 0.0)
    a2 = linework.angle_index(tx, ty, coh, 60.0, 90.0)
    first, second = linework.oriented_screens(shape, ctx.u, ctx.seed, [a1, a2], 6.0)
    a = _screen(dark8, first, 90, 24.0)
    b = _screen(dark8, second, 145, 24.0)
    return cv2.min(a, b, dst=a)


def _stipple(dark8: np.ndarray, ctx: Ctx) -> np.ndarray:
    screen = textures.stipple_screen(dark8.shape, ctx.u, ctx.seed, spacing=6.0)
    # dots need some darkness to start (the offset keeps light areas clean paper) and start
    # at a visible size: a steep edge, no faint grey dust
    return _screen(dark8, screen, 120, 16.0)
