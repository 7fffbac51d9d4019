"""Array in, file bytes out: PNG, JPEG or WebP, carrying no metadata at all.

The output is always built from a bare array, so nothing of the upload (EXIF, GPS, ICC,
XMP) can leak into it, and nothing is added here either.
"""

from __future__ import annotations

import io
from numbers import Integral

import cv2
import numpy as np
from PIL import Image

from .errors import EngineError, InvalidParameter
from .formats import FORMAT_MIME_TYPES

# The formats a sketch can be written in.
MIME_TYPES = {name: FORMAT_MIME_TYPES[name] for name in ("png", "jpeg", "webp")}
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
_ALIASES = {"jpg": "jpeg"}
# Per side, from the formats themselves.
_MAX_SIDE = {"png": 2**31 - 1, "jpeg": 65_535, "webp": 16_383}

# PNG: zlib level 1, RLE strategy, Up filter. Measured with cv2 on 12 MP (4240x2832) gray
# pencil sketches, 2 cores. Level sweep with zlib's default strategy (grainy | smooth):
# 1: 239 ms 5.4 MB | 140 ms 2.2 MB; 3: 342 ms 5.2 MB; 6: 976 ms 4.9 MB | 480 ms 1.7 MB;
# 9: 5.3 s 4.8 MB | 4.9 s 1.5 MB: 20x the time for <12% smaller. RLE (where the level no
# longer matters) beats every level: with the Up filter 114 ms 4.4 MB | 64 ms 1.6 MB, and
# 114 ms 5.8 MB on a paper-textured sketch. Up rather than OpenCV's default Sub: 1-10%
# smaller on every sample, and it stays good on colour (303 ms 13.7 MB vs 326 ms 15.4 MB).
_PNG_PARAMS = [
    cv2.IMWRITE_PNG_COMPRESSION,
    1,
    cv2.IMWRITE_PNG_STRATEGY,
    cv2.IMWRITE_PNG_STRATEGY_RLE,
    cv2.IMWRITE_PNG_FILTER,
    cv2.IMWRITE_PNG_FILTER_UP,
]
# WebP: libwebp's default method 4 takes 650-1000 ms at 12 MP; method 2 takes 270-450 ms
# for a similar size and 0.2-0.4 dB less PSNR at the same quality.
_WEBP_METHOD = 2


def canonical_format(fmt: str) -> str:
    """``"PNG"``, ``"jpg"``... -> ``"png"``, ``"jpeg"`` or ``"webp"``; else InvalidParameter."""
    name = fmt.lower() if isinstance(fmt, str) else ""
    name = _ALIASES.get(name, name)
    if name not in MIME_TYPES:
        raise InvalidParameter(f"Unknown output format {fmt!r}; choose one of png, jpeg or webp.")
    return name


def encode(image: np.ndarray, fmt: str = "png", quality: int = 90) -> bytes:
    """Encode an (H, W) gray or (H, W, 3) RGB ``uint8`` array.

    ``quality`` (1-100) applies to JPEG and WebP; PNG is lossless and ignores it.
    """
    name = canonical_format(fmt)
    if isinstance(quality, bool) or not isinstance(quality, Integral):
        raise InvalidParameter("Quality must be a whole number from 1 to 100.")
    if not 1 <= quality <= 100:
        raise InvalidParameter(f"Quality must be from 1 to 100, not {quality}.")
    _check_image(image)
    height, width = image.shape[:2]
    limit = _MAX_SIDE[name]
    if width > limit or height > limit:
        raise InvalidParameter(f"{name.upper()} images can be at most {limit} pixels on a side; this one is {width}x{height}.")
    if name == "webp":
        return _encode_webp(image, int(quality))
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)  # cv2 writes BGR
    if name == "png":
        params = _PNG_PARAMS
    else:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    ok, buf = cv2.imencode("." + name, image, params)
    if not ok:
        raise EngineError(f"Could not encode the image as {name.upper()}.")
    return buf.tobytes()


def _encode_webp(image: np.ndarray, quality: int) -> bytes:
    # Pillow rather than cv2: cv2 does not expose libwebp's speed/size trade-off (method).
    out = io.BytesIO()
    Image.fromarray(image).save(out, "WEBP", quality=quality, method=_WEBP_METHOD)
    return out.getvalue()


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InvalidParameter("The image must be a uint8 NumPy array.")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise InvalidParameter(f"The image must be (H, W) gray or (H, W, 3) RGB, not {image.shape}.")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidParameter("The image is empty.")
