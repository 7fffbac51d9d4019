"""Is the whole file there? A cheap end-to-end check of an upload, done once at confirm.

The engine's ``probe`` reads only the header, so a photo cut off mid-upload (or on purpose)
would pass confirm and fail later in the worker. These checks read the structure, not the
pixels: JPEG is decoded at 1/8 scale by libjpeg (tens of ms for 12 MP), PNG's chunks are
walked to IEND, WebP's RIFF size is compared with the bytes present, GIF must end with its
trailer. HEIF has no cheap check and is left to the decoder.
"""

import io
import struct

from .decode import CORRUPT_MESSAGE
from .errors import CorruptImage

TRUNCATED_MESSAGE = "The image file is incomplete: it looks cut off. Upload it again."


def check_complete(data: bytes, fmt: str) -> None:
    """Raise ``CorruptImage`` when ``data`` (a whole file of format ``fmt``) is truncated or damaged."""
    check = {"jpeg": _jpeg, "png": _png, "webp": _webp, "gif": _gif}.get(fmt)
    if check is not None:
        check(data)


def _jpeg(data: bytes) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            # DCT scaling: libjpeg reads every byte of the scan but computes 1/64 of the pixels.
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except Image.DecompressionBombError:
        return  # the pixel limit is checked (with a better message) from the header
    except OSError as exc:
        raise CorruptImage(TRUNCATED_MESSAGE if "truncated" in str(exc) else CORRUPT_MESSAGE) from exc
    except Exception as exc:  # Pillow raises SyntaxError, ValueError... on damaged files
        raise CorruptImage(CORRUPT_MESSAGE) from exc


def _png(data: bytes) -> None:
    position = 8
    while True:
        if position + 8 > len(data):
            raise CorruptImage(TRUNCATED_MESSAGE)
        length, kind = struct.unpack_from(">I4s", data, position)
        position += 12 + length
        if position > len(data):
            raise CorruptImage(TRUNCATED_MESSAGE)
        if kind == b"IEND":
            return


def _webp(data: bytes) -> None:
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 > len(data):
        raise CorruptImage(TRUNCATED_MESSAGE)


def _gif(data: bytes) -> None:
    if b"\x3b" not in data[-16:]:  # the trailer, give or take padding some encoders add
        raise CorruptImage(TRUNCATED_MESSAGE)
