"""Pure image code: photo in, drawing out. No Django imports anywhere in this package.

Surface: ``decode(data, max_pixels)``, ``render(image, style, method, ...)``, ``encode(image, fmt, quality)``.
"""

import os

# OpenCV reads this only when cv2 is first imported; set it before anything imports cv2 so
# that even a direct cv2.imdecode cannot allocate more than the default limit.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(50_000_000))

from .catalog import METHODS, STYLES
from .decode import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SCANS, decode, probe
from .encode import MIME_TYPES, encode
from .errors import (
    CorruptImage,
    EngineError,
    ImageError,
    ImageTooComplex,
    ImageTooLarge,
    InvalidParameter,
    UnsupportedImage,
)
from .render import render
from .thumbnail import thumbnail

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SCANS",
    "METHODS",
    "MIME_TYPES",
    "STYLES",
    "CorruptImage",
    "EngineError",
    "ImageError",
    "ImageTooComplex",
    "ImageTooLarge",
    "InvalidParameter",
    "UnsupportedImage",
    "decode",
    "encode",
    "probe",
    "render",
    "thumbnail",
]
