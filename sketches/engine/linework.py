"""Helpers for the line styles (pencil, charcoal, ink): a calm working copy of the picture,
pen lines that ignore sensor noise, and tone screens whose strokes follow the forms.

Everything that decides *where* a mark goes is computed on a reduced working copy (about one
megapixel) that has been smoothed with an edge-preserving filter: photo noise is gone before any
threshold sees it, and the cost does not grow with the picture. Marks are then drawn at full size
from smooth fields (linear upsampling, then a steep curve), so their edges stay crisp.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from . import ops, textures

F32 = np.float32


def calm_tone(rgb: np.ndarray, max_mp: float, sigma_color: float = 0.08, passes: int = 2) -> np.ndarray:
    """Normalised luma (float32 [0, 1]) at a working size of at most ``max_mp`` megapixels,
    bilateral-smoothed: flat areas lose their noise, edges above ~``sigma_color`` stay sharp."""
    g8 = ops.gray8(rgb)
    table = ops.tone_table(g8)
    small8 = ops.resize(g8, ops.work_size(g8.shape, max_mp))
    g = ops.lut_f32(small8, table)
    us = ops.unit(g.shape)
    d = max(5, int(4.0 * us) | 1)
    for _ in range(passes):
        g = cv2.bilateralFilter(g, d, sigma_color, 1.5 * us)
    return g


def edge_darkness(g: np.ndarray, sigma: float, gain: float, floor: float, k: float = 1.6, auto: float = 0.0) -> np.ndarray:
    """Line darkness in [0, 1] from the dark lobe of a difference of Gaussians, with a dead zone:
    responses below ``floor`` (what smoothed noise and soft shading give) draw nothing.

    ``auto`` > 0 adapts the gain to the picture: the response at the ``auto`` percentile (of the
    pixels above the floor) draws full black, so a soft, low-contrast photo still gets its
    strongest edges inked; ``gain`` is then a lower bound (and half the upper one)."""
    d = cv2.subtract(cv2.GaussianBlur(g, (0, 0), max(sigma * k, 0.5)), cv2.GaussianBlur(g, (0, 0), max(sigma, 0.3)))
    d -= F32(floor)
    if auto > 0.0:
        step = max(1, int(math.sqrt(d.size / 250000)))
        sample = d[::step, ::step]
        above = sample[sample > 0]
        # only a picture with real edges (a few percent of it above the floor) adapts, and by
        # at most 2x: noise alone never gets promoted to lines
        if above.size > 0.03 * sample.size:
            gain = min(max(gain, 1.0 / max(float(np.percentile(above, auto)), 1e-4)), 2.0 * gain)
    d *= F32(gain)
    np.clip(d, 0.0, 1.0, out=d)
    return d


def along_flow(x: np.ndarray, tx: np.ndarray, ty: np.ndarray, length: float, steps: int = 4) -> np.ndarray:
    """Smooth a field along the edge tangents (the second pass of a flow-based DoG): line
    responses join up into continuous strokes, isolated blips fade."""
    return ops.lic(x, tx, ty, length, steps=steps)


def flow(g: np.ndarray, sigma: float, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge tangent field (tx, ty, confidence). Unlike ``ops.structure_flow`` the confidence has
    an absolute floor: where the picture has no gradient above ``floor`` (a sky, a wall: only
    noise) it is 0, so strokes there keep a fixed direction instead of swirling."""
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    jxx = ops.blur(gx * gx, sigma)
    jyy = ops.blur(gy * gy, sigma)
    jxy = ops.blur(gx * gy, sigma)
    a = jxx - jyy
    b = 2.0 * jxy
    mag = cv2.magnitude(a, b)
    ang = cv2.phase(a, b) * F32(0.5)
    tx = -np.sin(ang)
    ty = np.cos(ang)
    energy = np.sqrt(jxx + jyy)
    coh = mag / (jxx + jyy + F32(1e-9))
    coh *= ops.smoothstep(floor, 2.5 * floor, energy)
    return tx, ty, np.clip(coh, 0.0, 1.0, out=coh)


def up(x: np.ndarray, shape: tuple[int, ...], smooth: bool = False) -> np.ndarray:
    """Upsampling of a field to the full picture size: linear, or bicubic (``smooth``) for
    fields with fine marks, where linear leaves visible steps along diagonal lines."""
    if x.shape[:2] == shape[:2]:
        return x
    interp = cv2.INTER_CUBIC if smooth else cv2.INTER_LINEAR
    return cv2.resize(x, (shape[1], shape[0]), interpolation=interp)


def soft_lines(line: np.ndarray, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """A line darkness field (float [0, 1], working size) as uint8 paper (255) with lines,
    at full size: anti-aliased at the working size, then bicubic, so lines stay smooth when a
    12 MP picture is seen at 100 %."""
    if line.shape[:2] != shape[:2]:
        line = cv2.GaussianBlur(line, (0, 0), 0.6)
    return cv2.bitwise_not(up(ops.to_u8(line, 255.0 * scale), shape, smooth=True))


def crisp(ink8: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """uint8 ink amount -> uint8 ink with a steep edge between ``lo`` and ``hi``: upsampled
    smooth fields become solid marks with clean, anti-aliased contours."""
    return ops.lut_u8(ink8, ops.smoothstep(lo, hi, np.linspace(0.0, 1.0, 256)))


def oriented_screens(
    shape: tuple[int, int], u: float, seed: int, angle8s: list[np.ndarray], spacing: float, n: int = 6
) -> list[np.ndarray]:
    """Hatching screens whose line direction follows each of ``angle8s`` (uint8, 0..255 over
    180 degrees of visual angle, counter-clockwise from horizontal; any size, usually small).

    ``n`` fixed directions; each one's line screen is used where the local direction is close
    to it, with soft hand-overs, so hatching turns with the forms in patches as a
    draughtsman's does. Every direction's screen is made once and serves all the layers.
    uint8, 0 on a line, 255 between lines."""
    x = np.arange(256)
    outs: list[np.ndarray | None] = [None] * len(angle8s)
    for i in range(n):
        ang = 180.0 * i / n
        # weight: 1 near this direction, 0 one step away (circular); computed small, then
        # upsampled (an angle itself cannot be interpolated across its wrap-around)
        centre = ang * 256.0 / 180.0
        dist = np.minimum(np.abs(x - centre), 256 - np.abs(x - centre)) * (n / 256.0)
        lut = np.clip(2.0 - 2.5 * dist, 0.0, 1.0)
        screen = None
        for j, angle8 in enumerate(angle8s):
            wt_small = ops.lut_u8(angle8, lut)
            if not wt_small.any():
                continue
            if screen is None:
                # line_screen's angle is that of its normal: lines run at angle + 90 degrees
                screen = textures.line_screen(shape, u, (ang - 90.0) % 180.0, seed, spacing=spacing, wobble=1.0)
            # push the screen to paper (255) where this direction does not apply
            s = cv2.add(screen, cv2.bitwise_not(up(wt_small, shape)))
            prev = outs[j]
            outs[j] = s if prev is None else cv2.min(prev, s, dst=prev)
    return [o if o is not None else np.full(shape, 255, np.uint8) for o in outs]


def angle_index(tx: np.ndarray, ty: np.ndarray, coh: np.ndarray, default_deg: float, offset_deg: float) -> np.ndarray:
    """uint8 visual direction (0..255 over 180 degrees, counter-clockwise from horizontal) of
    the tangent turned by ``offset_deg``; ``default_deg + offset_deg`` where the confidence is low."""
    ang = np.degrees(np.arctan2(-ty, tx)) + F32(offset_deg)
    ang = np.mod(ang, 180.0).astype(F32)
    # circular blend with the default through doubled-angle vectors
    w = np.clip(coh * F32(2.0), 0.0, 1.0)
    r = np.radians(ang * 2.0)
    d = math.radians((default_deg + offset_deg) * 2.0)
    vx = w * np.cos(r) + (1 - w) * F32(math.cos(d))
    vy = w * np.sin(r) + (1 - w) * F32(math.sin(d))
    mixed = np.mod(np.degrees(np.arctan2(vy, vx)) / 2.0, 180.0)
    return np.clip(np.round(mixed * (256.0 / 180.0)), 0, 255).astype(np.uint8)


def noise_level(g: np.ndarray) -> float:
    """Robust noise estimate of a grey field: the fine residual's standard deviation in the
    calmest tenth of the picture (the flattest areas hold noise and nothing else)."""
    us = ops.unit(g.shape)
    r = cv2.subtract(g, cv2.GaussianBlur(g, (0, 0), 2.0 * us))
    b = max(8, int(12 * us))
    var = cv2.blur(r * r, (b, b))
    step = max(1, b // 2)
    return float(np.sqrt(np.percentile(var[::step, ::step], 10)))


def keep_strokes(ink: np.ndarray, weak: float, strong: float, min_area: float) -> np.ndarray:
    """Hysteresis on an ink field (float [0, 1], working size): a mark survives only if it is
    connected to a strong response and covers at least ``min_area`` pixels, so lines stay
    whole where they fade and isolated specks (noise, texture crumbs) leave the paper clean."""
    mask = (ink > F32(weak)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return ink
    keep = np.zeros(n, bool)
    keep[np.unique(labels[ink > F32(strong)])] = True
    keep &= stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    out = ink * keep[labels].astype(F32)
    # what fell below ``weak`` next to a kept mark keeps its soft edge
    soft = ink * (ink <= F32(weak)).astype(F32)
    return cv2.max(out, soft)


def strokes(shape: tuple[int, int], u: float, angle_deg: float, seed: int, length: float = 20.0) -> np.ndarray:
    """Hatching strokes: random dots dragged along ``angle_deg`` (visual, counter-clockwise),
    uint8, 128 = mean, ~40 std. A cheaper cousin of ``textures.hatching``: the noise is drawn
    in a frame already turned to the stroke direction, smeared with two box filters (a tapered
    stroke) and turned back with one affine warp, at about 1.2 megapixels."""

    def make() -> np.ndarray:
        h, w = shape
        f = max(1.0, math.sqrt(h * w / 1.2e6))
        sh, sw = max(2, round(h / f)), max(2, round(w / f))
        a = math.radians(angle_deg)
        ca, sa = math.cos(a), math.sin(a)
        # rotated frame big enough to cover the picture
        rw = int(abs(sw * ca) + abs(sh * sa)) + 4
        rh = int(abs(sw * sa) + abs(sh * ca)) + 4
        n = np.random.default_rng([seed, 71, int(angle_deg * 10)]).random((rh, rw), dtype=F32)
        if u / f > 1.5:  # strokes about 0.4 reference px wide, never finer than a pixel
            n = cv2.GaussianBlur(n, (0, 0), 0.3 * u / f)
        half = max(2, int(length * u / f * 0.6))
        n = cv2.blur(n, (half, 1), borderType=cv2.BORDER_REFLECT)
        n = cv2.blur(n, (half, 1), borderType=cv2.BORDER_REFLECT)
        # picture pixel (x, y) -> frame: rotate about the centres (y down, so the visual angle
        # turns clockwise in array coordinates)
        m = cv2.getRotationMatrix2D((sw / 2.0, sh / 2.0), -angle_deg, 1.0)
        m[0, 2] += (rw - sw) / 2.0
        m[1, 2] += (rh - sh) / 2.0
        s = cv2.warpAffine(n, m, (sw, sh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        return up(textures.to_u8(s, 40.0), shape)

    return textures.cached(("lw-strokes", shape, seed, round(u, 3), angle_deg, length), make)


def fill_pinholes(ink: np.ndarray, min_area: float) -> np.ndarray:
    """Close specks of paper smaller than ``min_area`` pixels inside ink (float [0, 1], working
    size): noise at the edge of a solid fill leaves pinholes no pen would."""
    paper = (ink < F32(0.5)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] < min_area
    small[0] = False
    if not small.any():
        return ink
    return cv2.max(ink, small[labels].astype(F32))


def broad_flow(g: np.ndarray, default_deg: float, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Stroke direction field (tx, ty) at ``size`` (width, height) that follows only the broad,
    clearly oriented forms of ``g`` (a trunk, a limb, a horizon), read on a very coarse copy;
    textured areas (grass, gravel, foliage: many directions at once) and flat ones keep
    ``default_deg``, so a hand would have drawn them as even hatching, never swirls."""
    coarse = ops.resize(g, ops.work_size(g.shape, 0.06))
    uc = ops.unit(coarse.shape)
    tx, ty, coh = flow(coarse, 4.0 * uc, 0.012)
    w = ops.smoothstep(0.55, 0.85, coh)
    ca, sa = math.cos(math.radians(default_deg)), -math.sin(math.radians(default_deg))
    # align each tangent's sign with the default so that blending never cancels out
    sign = np.where(tx * F32(ca) + ty * F32(sa) < 0, F32(-1.0), F32(1.0))
    bx = w * tx * sign + (1 - w) * F32(ca)
    by = w * ty * sign + (1 - w) * F32(sa)
    n = cv2.magnitude(bx, by) + F32(1e-6)
    bx, by = bx / n, by / n
    return cv2.resize(bx, size, interpolation=cv2.INTER_LINEAR), cv2.resize(by, size, interpolation=cv2.INTER_LINEAR)


def join_along_edges(
    line: np.ndarray, tx: np.ndarray, ty: np.ndarray, coh: np.ndarray, length: float, boost: float
) -> np.ndarray:
    """Join line responses along the edge flow (flow-based DoG), but only where the flow is
    clear: in textured areas the tangents point every way and smearing makes worms and fur."""
    joined = ops.clip01(along_flow(line, tx, ty, length, steps=4) * F32(boost))
    c = ops.smoothstep(0.3, 0.7, coh)
    return joined * c + line * (F32(1.0) - c)
