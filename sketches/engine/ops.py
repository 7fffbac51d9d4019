"""Image operations shared by the styles: tone, blur, edges, flow, abstraction, resizing.

Conventions: grey fields are float32 in [0, 1] (0 = black), colour images are RGB. Sizes that
depend on the picture are given in *reference pixels*: pixels of the same picture scaled to
one megapixel, so a look is the same at 0.3 MP and at 12 MP (see ``unit``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

F32 = np.float32


# --- geometry -------------------------------------------------------------------------------


def unit(shape: tuple[int, ...]) -> float:
    """Pixels per reference pixel: 1.0 at one megapixel, ~3.5 at 12 MP."""
    return math.sqrt(shape[0] * shape[1]) / 1000.0


def work_size(shape: tuple[int, ...], max_mp: float) -> tuple[int, int]:
    """(width, height) no larger than ``max_mp`` megapixels, same aspect, never upscaled."""
    h, w = shape[:2]
    f = min(1.0, math.sqrt(max_mp * 1e6 / (h * w)))
    return max(1, round(w * f)), max(1, round(h * f))


def detail_size(shape: tuple[int, ...], max_mp: float, detail: float) -> tuple[int, int]:
    """Working size for abstraction: ``max_mp`` scaled by detail, and never more than a
    detail-dependent share of the picture, so that detail matters for small pictures too."""
    mp = shape[0] * shape[1] / 1e6
    return work_size(shape, min(max_mp * (0.6 + 0.8 * detail), mp * (0.45 + 0.55 * detail)))


def resize(img: np.ndarray, size: tuple[int, int], *, smooth: bool = False) -> np.ndarray:
    """Resize to (width, height): area averaging down, bilinear (or bicubic) up."""
    w, h = size
    if (img.shape[1], img.shape[0]) == (w, h):
        return img
    if w <= img.shape[1] and h <= img.shape[0]:
        interp = cv2.INTER_AREA
    else:
        interp = cv2.INTER_CUBIC if smooth else cv2.INTER_LINEAR
    return cv2.resize(img, (w, h), interpolation=interp)


def size_of(img: np.ndarray) -> tuple[int, int]:
    return img.shape[1], img.shape[0]


# --- tone -----------------------------------------------------------------------------------


def gray(rgb: np.ndarray) -> np.ndarray:
    """Luma as float32 in [0, 1]."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.LUT(g, np.arange(256, dtype=F32) * F32(1 / 255))


def gray8(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def tone(rgb: np.ndarray, median: float = 0.55) -> np.ndarray:
    """Normalised luma, float32 [0, 1]: see ``tone_table``."""
    g8 = gray8(rgb)
    return lut_f32(g8, tone_table(g8, median))


def tone_table(g8: np.ndarray, median: float = 0.55) -> np.ndarray:
    """Per-level tone curve (float64, 256 entries, [0, 1]) for a uint8 grey picture.

    Auto-levels between the 1st and 99th percentile, then a gamma that moves the median to
    ``median`` so dark photos open up. Computed from the histogram: applying it is one LUT.
    """
    hist = cv2.calcHist([g8], [0], None, [256], [0, 256]).ravel()
    cdf = np.cumsum(hist) / max(hist.sum(), 1.0)
    lo, hi, med = (float(np.searchsorted(cdf, q)) / 255.0 for q in (0.01, 0.99, 0.5))
    span = max(hi - lo, 0.3)  # stretch at most ~3x: never amplify the noise of a flat picture
    # widen a narrow window around its centre, but inside [0, 1]: a blank white page stays
    # white and a black one black
    lo = float(np.clip(min(lo, (lo + hi) / 2 - span / 2), 0.0, 1.0 - span))
    x = np.clip((np.arange(256) / 255.0 - lo) / span, 0.0, 1.0)
    m = float(np.clip((med - lo) / span, 0.0, 1.0))
    if 0.02 < m < 0.98:
        x = x ** float(np.clip(math.log(median) / math.log(m), 0.5, 1.6))
    return x


def normalize_colour(rgb8: np.ndarray, median: float = 0.5, amount: float = 1.0) -> np.ndarray:
    """Auto-exposure for colour work: ``tone_table`` on the Lab lightness, blended by
    ``amount``; chroma grows with the lightness so lifted colours do not turn pale."""
    lab = cv2.cvtColor(rgb8, cv2.COLOR_RGB2Lab).astype(F32)
    x = np.arange(256, dtype=np.float64)
    new = x + (tone_table(lab[..., 0].astype(np.uint8), median) * 255.0 - x) * amount
    gain = np.clip((new + 20.0) / (x + 20.0), 1.0, 1.8) ** 0.7
    lum8 = lab[..., 0].astype(np.uint8)
    chroma = lut_f32(lum8, gain)
    lab[..., 1:] = (lab[..., 1:] - F32(128.0)) * chroma[..., None] + F32(128.0)
    lab[..., 0] = lut_f32(lum8, new)
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)


def lut_f32(g8: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Apply a 256-entry float table to uint8: float32 result in one pass."""
    return cv2.LUT(g8, np.asarray(table, F32))


def lut_u8(g8: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Apply a 256-entry [0, 1] table to uint8, result uint8."""
    return cv2.LUT(g8, np.clip(np.round(np.asarray(table) * 255.0), 0, 255).astype(np.uint8))


def to_u8(x: np.ndarray, scale: float = 255.0) -> np.ndarray:
    """float [0, 1] -> uint8, rounded and saturated in one OpenCV pass."""
    return cv2.addWeighted(x, scale, x, 0.0, 0.0, dtype=cv2.CV_8U)


def clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0, out=x)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - F32(e0)) * F32(1.0 / (e1 - e0)), 0.0, 1.0)
    return t * t * (F32(3.0) - F32(2.0) * t)


def curve_lut(fn) -> np.ndarray:
    """256-entry uint8 lookup table from a function of float [0, 1] -> [0, 1]."""
    x = np.linspace(0.0, 1.0, 256, dtype=np.float64)
    return np.clip(np.round(fn(x) * 255.0), 0, 255).astype(np.uint8)


def saturate(rgb: np.ndarray, amount: float) -> np.ndarray:
    """Scale chroma around luma (amount 1 = unchanged). uint8 in, uint8 out."""
    g = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(rgb, amount, g, 1.0 - amount, 0.0)


# --- blur -----------------------------------------------------------------------------------


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide kernels run on a downscaled copy (same look, a fraction of the cost)."""
    if sigma < 0.3:
        return x.copy()
    h, w = x.shape[:2]
    f = int(sigma / 1.6)
    if f < 2 or min(h, w) < 8 * f:
        return cv2.GaussianBlur(x, (0, 0), sigma)
    small = cv2.resize(x, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), math.sqrt(max(sigma**2 / f**2 - 0.25, 0.09)))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


# --- edges ----------------------------------------------------------------------------------


def dodge(g8: np.ndarray, sigma: float) -> np.ndarray:
    """Colour-dodge of grey with its blurred negative = grey / blur(grey): the classic pencil line.

    uint8 in and out; 255 where flat, darker where the pixel is darker than its surround.
    """
    b = blur(g8, sigma)
    return cv2.divide(g8, cv2.max(b, 1), scale=255)


def _reduction(shape: tuple[int, ...], sigma: float) -> int:
    """Integer downscale factor at which a blur of ``sigma`` still spans >= 1.25 px."""
    f = int(sigma / 1.25)
    return f if f >= 2 and min(shape[:2]) >= 16 * f else 1


def _dog(g: np.ndarray, sigma: float, k: float, p: float) -> np.ndarray:
    """Sharpened image S = (1 + p) G(sigma) - p G(k sigma): edges overshoot, flats stay."""
    g1 = cv2.GaussianBlur(g, (0, 0), max(sigma, 0.3))
    g2 = cv2.GaussianBlur(g, (0, 0), max(sigma * k, 0.5))
    return cv2.addWeighted(g1, 1.0 + p, g2, -p, 0.0)


def _dog_any_size(g: np.ndarray, sigma: float, k: float, p: float) -> np.ndarray:
    """``_dog``, computed on a reduced copy when sigma is wide: the result is smooth, so it is
    resized back (the caller thresholds it at full size, which keeps the lines crisp)."""
    f = _reduction(g.shape, sigma)
    if f == 1:
        return _dog(g, sigma, k, p)
    h, w = g.shape[:2]
    small = cv2.resize(g, (w // f, h // f), interpolation=cv2.INTER_AREA)
    return cv2.resize(_dog(small, sigma / f, k, p), (w, h), interpolation=cv2.INTER_LINEAR)


def xdog(g: np.ndarray, sigma: float, *, k: float = 1.6, p: float = 20.0, eps: float = 0.6, phi: float = 8.0) -> np.ndarray:
    """Extended difference of Gaussians (Winnemoeller 2012): ink-like lines and black fills.

    ``g`` float [0, 1]; returns float [0, 1], 1 = paper. Larger ``eps`` gives more black.
    """
    s = _dog_any_size(g, sigma, k, p)
    # soft threshold around eps: 1 above, 1 + tanh(phi (S - eps)) below
    s -= F32(eps)
    s *= F32(phi)
    np.minimum(s, 0.0, out=s)
    np.tanh(s, out=s)
    s += F32(1.0)
    return s


def dog_lines(g: np.ndarray, sigma: float, gain: float, k: float = 1.6) -> np.ndarray:
    """Darkness of line work in [0, 1] from the negative lobe of a difference of Gaussians."""
    f = _reduction(g.shape, sigma)
    if f == 1:
        d = cv2.subtract(cv2.GaussianBlur(g, (0, 0), max(sigma * k, 0.5)), cv2.GaussianBlur(g, (0, 0), max(sigma, 0.3)))
    else:
        h, w = g.shape[:2]
        small = cv2.resize(g, (w // f, h // f), interpolation=cv2.INTER_AREA)
        d = cv2.subtract(cv2.GaussianBlur(small, (0, 0), sigma * k / f), cv2.GaussianBlur(small, (0, 0), sigma / f))
        d = cv2.resize(d, (w, h), interpolation=cv2.INTER_LINEAR)
    # d > 0 on the dark side of an edge
    d *= F32(gain)
    np.clip(d, 0.0, 1.0, out=d)
    return d


def gradient_magnitude(g: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


# --- flow -----------------------------------------------------------------------------------


def structure_flow(g: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge tangent field from the smoothed structure tensor: (tx, ty, coherence in [0, 1])."""
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx = blur(gx * gx, sigma)
    jyy = blur(gy * gy, sigma)
    jxy = blur(gx * gy, sigma)
    a = jxx - jyy
    b = 2.0 * jxy
    mag = cv2.magnitude(a, b)
    # direction of largest change is angle/2 of (a, b); the tangent is perpendicular to it.
    ang = cv2.phase(a, b) * F32(0.5)
    tx = -np.sin(ang)
    ty = np.cos(ang)
    coh = mag / (jxx + jyy + F32(1e-6))
    # weak gradients (flat sky, noise) have a random direction: fade their confidence out
    energy = np.sqrt(jxx + jyy)
    ref = float(np.percentile(energy[:: max(1, energy.shape[0] // 128), :: max(1, energy.shape[1] // 128)], 75))
    coh *= np.clip(energy * F32(1.0 / max(ref, 1e-4)), 0.0, 1.0)
    return tx, ty, np.clip(coh, 0.0, 1.0, out=coh)


def blend_flow(
    tx: np.ndarray, ty: np.ndarray, coh: np.ndarray, angle_deg: float, min_coh: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Fall back to a fixed stroke angle where the image has no clear direction."""
    ca, sa = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    # align the sign of the tangent with the default so that blending never cancels out
    sign = np.where(tx * ca + ty * sa < 0, F32(-1.0), F32(1.0))
    w = np.clip(coh * F32(1.0 / max(min_coh, 1e-3)), 0.0, 1.0)
    bx = w * tx * sign + (1 - w) * F32(ca)
    by = w * ty * sign + (1 - w) * F32(sa)
    n = cv2.magnitude(bx, by) + F32(1e-6)
    return bx / n, by / n


def lic(src: np.ndarray, tx: np.ndarray, ty: np.ndarray, length: float, steps: int = 6) -> np.ndarray:
    """Line integral convolution: average ``src`` along straight segments of the local tangent.

    Gives strokes that follow the picture (brush marks, hatching along forms). All fields share
    one size; cost is ``2 * steps`` remaps.
    """
    h, w = src.shape[:2]
    xs = np.arange(w, dtype=F32)[None, :]
    ys = np.arange(h, dtype=F32)[:, None]
    acc = src.astype(F32, copy=True)
    total = 1.0
    for i in range(1, steps + 1):
        d = F32(length * i / steps)
        wt = 1.0 - 0.5 * i / (steps + 1)  # triangular-ish weights: a tapered stroke
        for s in (d, -d):
            mx = xs + tx * s
            my = ys + ty * s
            acc += F32(wt) * cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            total += wt
    acc *= F32(1.0 / total)
    return acc


# --- abstraction ----------------------------------------------------------------------------


def smooth_kuwahara(img: np.ndarray, radius: int, q: float = 8.0) -> np.ndarray:
    """Kuwahara filter from box sums: each pixel takes the mean of the calmest of its four
    quadrants, with soft weights 1 / (1 + var^q) so there are no hard seams. Flat paint
    patches, kept edges; cost is two box filters and four shifted reads, on float32."""
    if radius < 1:
        return img.astype(F32, copy=True)
    x = img.astype(F32, copy=False)
    k = radius + 1
    mean = cv2.blur(x, (k, k), borderType=cv2.BORDER_REFLECT)
    sq = cv2.blur(x * x, (k, k), borderType=cv2.BORDER_REFLECT)
    var = sq - mean * mean
    if var.ndim == 3:
        var = var.sum(axis=2)
    var = np.maximum(var, F32(1e-4))
    o = radius // 2
    h, w = x.shape[:2]
    acc = np.zeros_like(mean)
    wsum = np.zeros(var.shape, F32)
    norm = F32(1.0 / max(float(np.median(var)), 1e-4))
    for dy in (-o, radius - o):
        for dx in (-o, radius - o):
            m = np.float32([[1, 0, dx], [0, 1, dy]])
            v = cv2.warpAffine(var, m, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            mu = cv2.warpAffine(mean, m, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            wt = 1.0 / (1.0 + (v * norm) ** q)
            wsum += wt
            acc += mu * (wt[..., None] if mu.ndim == 3 else wt)
    wsum = np.maximum(wsum, F32(1e-12))
    return acc / (wsum[..., None] if acc.ndim == 3 else wsum)


def bilateral(rgb8: np.ndarray, sigma_space: float, sigma_color: float, passes: int = 1) -> np.ndarray:
    """Repeated bilateral filter on uint8 RGB (edge-preserving smoothing, cartoon-like)."""
    out = rgb8
    d = max(3, int(sigma_space * 2) | 1)
    for _ in range(passes):
        out = cv2.bilateralFilter(out, d, sigma_color, sigma_space)
    return out


# Palette distances weigh chroma twice as much as lightness: small warm areas (a face against
# a grey wall) then get their own colour instead of one more grey.
_LAB_W = np.float32([1.0, 2.0, 2.0])


def _lab_weighted(rgb8: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb8, cv2.COLOR_RGB2Lab).reshape(-1, 3).astype(F32)
    lab[:, 1:] -= F32(128.0)
    return lab * _LAB_W


def kmeans_palette(rgb8: np.ndarray, k: int, seed: int, iters: int = 12) -> np.ndarray:
    """Deterministic k-means in (weighted) Lab on a subsample (cv2.kmeans uses a global RNG)."""
    lab = _lab_weighted(rgb8)
    rng = np.random.default_rng([seed, 77])
    n = lab.shape[0]
    sample = lab[rng.choice(n, size=min(n, 6000), replace=False)] if n > 6000 else lab
    k = max(1, min(k, len(np.unique(sample.round(), axis=0))))
    # k-means++ seeding
    centres = [sample[rng.integers(len(sample))]]
    for _ in range(1, k):
        d = np.min(((sample[:, None, :] - np.asarray(centres)[None]) ** 2).sum(-1), axis=1)
        p = d / d.sum() if d.sum() > 0 else None
        centres.append(sample[rng.choice(len(sample), p=p)])
    c = np.asarray(centres, F32)
    for _ in range(iters):
        lbl = np.argmin(((sample[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            sel = sample[lbl == j]
            if len(sel):
                c[j] = sel.mean(axis=0)
    c = c / _LAB_W
    c[:, 1:] += F32(128.0)
    return cv2.cvtColor(np.clip(np.round(c), 0, 255).astype(np.uint8)[None], cv2.COLOR_Lab2RGB)[0]


def palette_lut(palette_rgb: np.ndarray, bits: int = 5) -> np.ndarray:
    """Nearest-palette colour for every cell of a 2^bits-per-channel RGB grid (in Lab)."""
    n = 1 << bits
    step = 256 // n
    axis = (np.arange(n) * step + step // 2).astype(np.uint8)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(1, -1, 3)
    glab = _lab_weighted(grid)
    plab = _lab_weighted(palette_rgb[None].astype(np.uint8))
    idx = np.argmin(((glab[:, None, :] - plab[None]) ** 2).sum(-1), axis=1)
    return palette_rgb[idx].astype(np.uint8)


def apply_palette(rgb8: np.ndarray, lut: np.ndarray, bits: int = 5) -> np.ndarray:
    """Map every pixel to its palette colour through the precomputed grid.

    The grid is laid out as an image (rows = red, columns = green * n + blue) and read with a
    nearest-neighbour remap: one multithreaded pass, ~3x faster than numpy fancy indexing.
    """
    n = 1 << bits
    shift = (np.arange(256) >> (8 - bits)).astype(np.uint8)
    r, g, b = cv2.split(rgb8)
    mx = cv2.addWeighted(cv2.LUT(g, shift), float(n), cv2.LUT(b, shift), 1.0, 0.0, dtype=cv2.CV_32F)
    my = cv2.LUT(r, shift.astype(F32))
    grid = np.ascontiguousarray(lut.reshape(n, n * n, 3))
    return cv2.remap(grid, mx, my, cv2.INTER_NEAREST)


# --- compositing (uint8, full resolution, low memory) ---------------------------------------


# Full-size RGB buffers (36 MB at 12 MP) are above glibc's mmap threshold, so every new one
# costs page faults: the helpers below write into the buffers they allocate anyway.


def multiply_rgb(rgb8: np.ndarray, shade8: np.ndarray) -> np.ndarray:
    """rgb * shade / 255 where shade is a single-channel uint8 field."""
    s3 = cv2.cvtColor(shade8, cv2.COLOR_GRAY2RGB)
    return cv2.multiply(rgb8, s3, dst=s3, scale=1 / 255)


def add_rgb(rgb8: np.ndarray, light8: np.ndarray) -> np.ndarray:
    """rgb + light (saturating), light a single-channel uint8 field (e.g. specular glints)."""
    l3 = cv2.cvtColor(light8, cv2.COLOR_GRAY2RGB)
    return cv2.add(rgb8, l3, dst=l3)


def mix_rgb(a8: np.ndarray, b8: np.ndarray, alpha8: np.ndarray) -> np.ndarray:
    """a * alpha + b * (1 - alpha) per pixel, alpha a single-channel uint8 field."""
    al = cv2.cvtColor(alpha8, cv2.COLOR_GRAY2RGB)
    out = cv2.multiply(a8, al, scale=1 / 255)
    cv2.bitwise_not(al, dst=al)  # 255 - alpha (a Python scalar would only hit channel 0)
    cv2.multiply(b8, al, dst=al, scale=1 / 255)
    return cv2.add(out, al, dst=out)


def tint(gray8: np.ndarray, dark_rgb: tuple[int, int, int], light_rgb: tuple[int, int, int]) -> np.ndarray:
    """Map grey to a colour ramp (e.g. graphite on cream paper) via three lookup tables."""
    x = np.linspace(0.0, 1.0, 256)
    chans = []
    for c in range(3):
        lut = np.round(dark_rgb[c] + (light_rgb[c] - dark_rgb[c]) * x).astype(np.uint8)
        chans.append(cv2.LUT(gray8, lut))
    return cv2.merge(chans)
