"""Bytes in, RGB array out: format allow-list, size limit, orientation, alpha.

Only JPEG, PNG, WebP, GIF and HEIC/HEIF are accepted, recognised by their magic bytes
(never by file name or declared content type). The size limit is enforced from the
header, before any decoder allocates pixels.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .errors import CorruptImage, ImageTooComplex, ImageTooLarge, UnsupportedImage
from .formats import FORMAT_MIME_TYPES

DEFAULT_MAX_PIXELS = 50_000_000
# Each scan of a progressive JPEG makes libjpeg walk every coefficient of the image again, so a
# small file that repeats one scan thousands of times costs a minute of CPU. Cameras, phones,
# libjpeg, Pillow and OpenCV write 1 (baseline) to about 12 scans; libjpeg-turbo's own tools
# offer the same brake (-maxscans).
DEFAULT_MAX_SCANS = 100

UNSUPPORTED_MESSAGE = "This file is not a supported image (JPEG, PNG, WebP, GIF or HEIC)."
CORRUPT_MESSAGE = "The image file is damaged or incomplete."

# Brands of HEVC-coded HEIF, which libheif decodes here. AVIF is refused: this build has
# no AV1 decoder, so accepting it would only turn "unsupported" into "corrupt".
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = _HEIC_BRANDS | {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
# SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) sit in the same range.
_JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# In entropy-coded data 0xFF is always followed by a stuffed 0x00 or a restart marker (D0-D7);
# anything else after 0xFF is the next marker segment.
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}


@dataclass(frozen=True)
class ImageInfo:
    """What the header says.

    ``width``/``height`` are as stored, before EXIF orientation is applied (a portrait
    phone photo may report landscape dimensions; the pixel count is the same either way).
    For HEIF they are after the container's own rotation.
    """

    format: str
    mime: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def probe(data: bytes, max_scans: int = DEFAULT_MAX_SCANS) -> ImageInfo:
    """Identify the format from magic bytes and read the dimensions from the header only.

    Works on a prefix of the file. 64 KiB is enough for typical JPEGs including their
    EXIF block; a large ICC profile or XMP packet can push the JPEG frame header further
    (256 KiB covers nearly everything). HEIF needs its ``meta`` box, which phones write
    at the start. If the header is not inside ``data``, raises ``CorruptImage``; anything
    that is not an allow-listed format raises ``UnsupportedImage``. A JPEG with more than
    ``max_scans`` scans in ``data`` raises ``ImageTooComplex`` (give the whole file to count
    them all).
    """
    return _probe(bytes(data), max_scans)[0]


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_scans: int = DEFAULT_MAX_SCANS) -> np.ndarray:
    """Decode an uploaded image to an RGB ``uint8`` array (H, W, 3), C-contiguous.

    EXIF orientation is applied, transparency is composited on white, 16-bit and
    grayscale/palette/CMYK images become 8-bit RGB, animations yield their first frame.
    Raises ``ImageTooLarge`` (from the header, before decoding), ``ImageTooComplex`` (a JPEG
    of more than ``max_scans`` scans), ``UnsupportedImage`` or ``CorruptImage``.
    """
    data = bytes(data)  # no copy for bytes; also accepts bytearray/memoryview
    info, orientation = _probe(data, max_scans)
    if info.pixels > max_pixels:
        raise ImageTooLarge(
            f"The image is {info.width}x{info.height} pixels "
            f"({info.pixels / 1e6:.1f} megapixels); "
            f"the limit is {max_pixels / 1e6:g} megapixels."
        )
    if info.format == "jpeg":
        rgb = _decode_jpeg(data, info)
    elif info.format == "heif":
        rgb = _decode_heif(data, info)
    else:
        rgb, orientation = _decode_pillow(data, info)
    rgb = _orient(rgb, orientation)
    if not (rgb.flags.c_contiguous and rgb.flags.writeable):
        # np.asarray() of a Pillow image is read-only; callers may work in place.
        rgb = np.array(rgb, order="C")
    return rgb


# --- header parsing ---------------------------------------------------------------------


def _probe(data: bytes, max_scans: int) -> tuple[ImageInfo, int]:
    """Return the header info and, for JPEG, the EXIF orientation (1 when unknown)."""
    fmt = _sniff(data)
    orientation = 1
    try:
        if fmt == "jpeg":
            width, height, orientation = _jpeg_header(data)
            scans = _jpeg_scans(data, max_scans)
            if scans > max_scans:
                raise ImageTooComplex(
                    f"This JPEG has more than {max_scans} progressive scans (photos have about 10), "
                    "which would take minutes to decode. Save it again as a standard JPEG or as PNG and upload that."
                )
        elif fmt == "png":
            width, height = _png_header(data)
        elif fmt == "gif":
            width, height = _gif_header(data)
        elif fmt == "webp":
            width, height = _webp_header(data)
        else:
            width, height = _heif_header(data)
    except (struct.error, IndexError) as exc:  # header cut short
        raise CorruptImage(CORRUPT_MESSAGE) from exc
    if width <= 0 or height <= 0:
        raise CorruptImage(CORRUPT_MESSAGE)
    mime = FORMAT_MIME_TYPES[fmt]
    if fmt == "heif" and data[8:12] in _HEIC_BRANDS:
        mime = "image/heic"
    return ImageInfo(fmt, mime, width, height), orientation


def _sniff(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and len(data) >= 16:
        end = min(int.from_bytes(data[:4], "big"), len(data))
        brands = {data[8:12]} | {data[i : i + 4] for i in range(16, end - 3, 4)}
        if brands & _HEIF_BRANDS and not brands & _AVIF_BRANDS:
            return "heif"
    raise UnsupportedImage(UNSUPPORTED_MESSAGE)


def _jpeg_header(data: bytes) -> tuple[int, int, int]:
    """Walk the marker segments up to the frame header (SOF)."""
    pos, orientation = 2, 1
    while True:
        if data[pos] != 0xFF:
            raise CorruptImage(CORRUPT_MESSAGE)
        while data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone, no length field
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any SOF
            raise CorruptImage(CORRUPT_MESSAGE)
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise CorruptImage(CORRUPT_MESSAGE)
        segment = data[pos + 2 : pos + length]
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", segment, 1)
            return width, height, orientation
        if marker == 0xE1 and segment.startswith(b"Exif\0\0"):
            orientation = _exif_orientation(segment[6:])
        pos += length


def _jpeg_scans(data: bytes, limit: int) -> int:
    """Count the start-of-scan markers in ``data``; stops counting once past ``limit``.

    Walks the marker segments and skips each scan's entropy-coded data, so bytes inside
    EXIF, ICC or comment segments are never taken for markers. A cut-off file counts the
    scans present.
    """
    pos, scans = 2, 0
    try:
        while data[pos] == 0xFF:  # anything else here is damage the decoder will report
            while data[pos] == 0xFF:
                pos += 1
            marker = data[pos]
            pos += 1
            if marker == 0xD9:  # end of image
                break
            if marker == 0x01 or 0xD0 <= marker <= 0xD7:
                continue
            (length,) = struct.unpack_from(">H", data, pos)
            pos += length
            if marker == 0xDA:
                scans += 1
                found = _JPEG_NEXT_MARKER.search(data, pos)
                if scans > limit or found is None:
                    break
                pos = found.start()
    except (IndexError, struct.error):
        pass  # the end of a prefix or of a cut-off file
    return scans


def _exif_orientation(tiff: bytes) -> int:
    """Orientation (tag 0x0112) of IFD0; 1 when missing or malformed, as browsers do."""
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for i in range(count):
            entry = struct.unpack_from(order + "HHIH", tiff, ifd + 2 + 12 * i)
            tag, kind, _, value = entry
            if tag == 0x0112 and kind == 3:  # SHORT
                return value if 1 <= value <= 8 else 1
    except (KeyError, struct.error):
        pass
    return 1


def _png_header(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise CorruptImage(CORRUPT_MESSAGE)
    return struct.unpack_from(">II", data, 16)


def _gif_header(data: bytes) -> tuple[int, int]:
    """Logical screen, grown to fit the first frame (as Pillow does)."""
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # global colour table
    while True:
        block = data[pos]
        if block == 0x21:  # extension: label, then sub-blocks up to an empty one
            pos += 2
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        elif block == 0x2C:  # image descriptor of the first frame
            left, top, w, h = struct.unpack_from("<HHHH", data, pos + 1)
            return max(width, left + w), max(height, top + h)
        else:  # trailer or garbage before any frame
            raise CorruptImage(CORRUPT_MESSAGE)


def _webp_header(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        w, h = struct.unpack_from("<HH", data, 26)
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:  # lossless
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:  # extended: canvas size
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    raise CorruptImage(CORRUPT_MESSAGE)


def _heif_header(data: bytes) -> tuple[int, int]:
    # The box tree (pitm/ipma/ispe/irot) is left to libheif, which reads only the
    # metadata here; pixels are decoded on first access.
    try:
        return _open_heif(data).size
    except MemoryError:
        raise
    # libheif reports parse failures as ValueError/RuntimeError.
    except Exception as exc:
        raise CorruptImage(CORRUPT_MESSAGE) from exc


# --- pixel decoding ---------------------------------------------------------------------


def _decode_jpeg(data: bytes, info: ImageInfo) -> np.ndarray:
    # cv2 (libjpeg-turbo) is about twice as fast as Pillow on JPEG, returns RGB directly,
    # handles grayscale and Adobe CMYK, and refuses truncated files. Orientation is
    # applied by us afterwards, so the decoded size can be checked against the header.
    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        rgb = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:  # e.g. over OPENCV_IO_MAX_IMAGE_PIXELS when max_pixels was raised
        rgb = None
    if rgb is None:
        # Pillow takes a few variants cv2 refuses; if it fails too, the file is damaged.
        rgb, _ = _decode_pillow(data, info)
    _check_shape(rgb, info)
    return rgb


def _decode_pillow(data: bytes, info: ImageInfo) -> tuple[np.ndarray, int]:
    """PNG, GIF, WebP (and the JPEG fallback): RGB pixels and the EXIF orientation."""
    try:
        # formats= keeps Pillow from trying other plugins on bytes we already identified.
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[info.format]]) as im:
            if im.size != (info.width, info.height):
                raise CorruptImage(CORRUPT_MESSAGE)
            im.load()  # the first frame only, for animations
            orientation = _pil_orientation(im)
            rgb = _to_rgb(im)
    except Image.DecompressionBombError as exc:
        size = f"{info.width}x{info.height}"
        raise ImageTooLarge(f"The image is too large ({size} pixels).") from exc
    except (CorruptImage, MemoryError):
        raise
    # Pillow raises OSError, SyntaxError, ValueError, EOFError, zlib.error...
    except Exception as exc:
        raise CorruptImage(CORRUPT_MESSAGE) from exc
    _check_shape(rgb, info)
    return rgb, orientation


def _decode_heif(data: bytes, info: ImageInfo) -> np.ndarray:
    try:
        heif = _open_heif(data)
        if heif.size != (info.width, info.height):
            raise CorruptImage(CORRUPT_MESSAGE)
        # libheif has applied the container's rotation/mirror (irot/imir); the EXIF
        # orientation inside a HEIF is informative only and must not be applied again.
        rgb = _to_rgb(heif.to_pillow())
    except (CorruptImage, MemoryError):
        raise
    except Exception as exc:
        raise CorruptImage(CORRUPT_MESSAGE) from exc
    _check_shape(rgb, info)
    return rgb


def _to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Pillow's convert("L") clips 16-bit values at 255 instead of scaling them.
        values = np.asarray(im)
        grey = (np.clip(values, 0, 65535) >> 8).astype(np.uint8)
        key = im.info.get("transparency")
        if isinstance(key, int):  # tRNS colour key of a 16-bit grey PNG
            grey[values == key] = 255
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGB", im.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))  # alpha blend onto white, in C
        im = white
    elif im.mode != "RGB":
        im = im.convert("RGB")  # L, 1, P, CMYK (Adobe inversion undone), YCbCr
    return np.asarray(im)


def _pil_orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)  # also reads XMP's tiff:Orientation
    except Exception:  # a malformed EXIF block must not sink an otherwise good image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _check_shape(rgb: np.ndarray, info: ImageInfo) -> None:
    # Guards polyglots and header/payload mismatches: the pixels must match the header.
    if rgb.shape != (info.height, info.width, 3) or rgb.dtype != np.uint8:
        raise CorruptImage(CORRUPT_MESSAGE)


def _orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) so the array is upright, as browsers show it."""
    if orientation == 2:
        return cv2.flip(rgb, 1)
    if orientation == 3:
        return cv2.rotate(rgb, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(rgb, 0)
    if orientation == 5:
        return cv2.transpose(rgb)
    if orientation == 6:
        return cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(rgb), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return rgb


def _open_heif(data: bytes):
    # Imported on first use: it loads libheif and its codecs, which most requests never
    # need. open_heif is called directly, so no global Pillow plugin gets registered.
    import pillow_heif

    return pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
