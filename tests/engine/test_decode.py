"""decode() and probe(): allow-list, limits, orientation, colour modes, damaged files."""

from __future__ import annotations

import importlib
import io
import struct
import time
import tracemalloc
import zlib

import cv2
import numpy as np
import psutil
import pytest
from PIL import Image, ImageOps

from sketches.engine.decode import (
    CORRUPT_MESSAGE,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SCANS,
    UNSUPPORTED_MESSAGE,
    ImageInfo,
    decode,
    probe,
)
from sketches.engine.errors import (
    CorruptImage,
    ImageError,
    ImageTooComplex,
    ImageTooLarge,
    UnsupportedImage,
)
from tests.engine.conftest import image_bytes, synthetic_rgb

# The package re-exports the function under the module's name; patch the module itself.
decode_module = importlib.import_module("sketches.engine.decode")

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)

PHOTOS = [
    ("volna-beach.jpg", "jpeg", 5120, 2880),
    ("colorful-cups.jpg", "jpeg", 2560, 1600),
    ("evening-glow.jpg", "jpeg", 2560, 1600),
    ("forest-path.jpg", "jpeg", 2560, 1600),
    ("astronaut.png", "png", 512, 512),
]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def crafted_png(width: int, height: int) -> bytes:
    """A structurally valid PNG header announcing width x height, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")
    )


def marked_image(height: int = 48, width: int = 64) -> np.ndarray:
    """Grey image with a red block top-left and a green block top-right (as stored)."""
    image = np.full((height, width, 3), 128, np.uint8)
    image[:12, :12] = RED
    image[:12, -12:] = GREEN
    return image


def corner(image: np.ndarray, where: str) -> np.ndarray:
    """Mean colour of a 6x6 patch inside the named corner block."""
    rows = slice(3, 9) if where[0] == "t" else slice(-9, -3)
    cols = slice(3, 9) if where[1] == "l" else slice(-9, -3)
    return image[rows, cols].reshape(-1, 3).mean(axis=0)


def assert_colour(actual, expected, tolerance: float = 40) -> None:
    assert np.abs(np.asarray(actual, float) - expected).max() <= tolerance, actual


def with_orientation(image: np.ndarray, fmt: str, orientation: int, **args) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return image_bytes(image, fmt, exif=exif.tobytes(), **args)


def assert_rgb_array(array: np.ndarray, height: int, width: int) -> None:
    assert array.shape == (height, width, 3)
    assert array.dtype == np.uint8
    assert array.flags.c_contiguous
    assert array.flags.writeable


# --- real photos -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt", "width", "height"), PHOTOS)
def test_real_photos_decode_with_header_shape(photos_dir, name, fmt, width, height):
    data = (photos_dir / name).read_bytes()
    assert probe(data) == ImageInfo(fmt, f"image/{fmt}", width, height)
    assert_rgb_array(decode(data), height, width)


@pytest.mark.parametrize(("name", "fmt", "width", "height"), PHOTOS)
def test_probe_reads_dimensions_from_a_64k_prefix(photos_dir, name, fmt, width, height):
    with (photos_dir / name).open("rb") as fh:
        prefix = fh.read(64 * 1024)
    info = probe(prefix)
    assert (info.format, info.width, info.height) == (fmt, width, height)


def test_jpeg_pixels_match_opencv_reference(photos_dir, load_photo):
    data = (photos_dir / "forest-path.jpg").read_bytes()
    np.testing.assert_array_equal(decode(data), load_photo("forest-path.jpg"))


def test_accepts_bytearray_and_memoryview(rgb_image):
    data = image_bytes(rgb_image, "PNG")
    np.testing.assert_array_equal(decode(bytearray(data)), rgb_image)
    np.testing.assert_array_equal(decode(memoryview(data)), rgb_image)
    assert probe(bytearray(data)).width == rgb_image.shape[1]


# --- EXIF orientation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "transposed", "red_at", "green_at"),
    [
        (1, False, "tl", "tr"),
        (3, False, "br", "bl"),  # rotated 180
        (6, True, "tr", "br"),  # shown rotated 90 degrees clockwise
        (8, True, "bl", "tl"),  # shown rotated 90 degrees counter-clockwise
    ],
)
def test_jpeg_exif_orientation_is_applied(orientation, transposed, red_at, green_at):
    data = with_orientation(marked_image(), "JPEG", orientation, quality=95)
    assert (probe(data).width, probe(data).height) == (64, 48)  # as stored
    out = decode(data)
    assert out.shape == ((64, 48, 3) if transposed else (48, 64, 3))
    assert_colour(corner(out, red_at), RED)
    assert_colour(corner(out, green_at), GREEN)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_orientations_match_pillow_exif_transpose(orientation, rgb_image):
    # PNG (eXIf chunk) is lossless, so the comparison can be exact.
    data = with_orientation(rgb_image, "PNG", orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    np.testing.assert_array_equal(decode(data), expected)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientations_match_pillow_exif_transpose(orientation, rgb_image):
    data = with_orientation(rgb_image, "JPEG", orientation, quality=95)
    with Image.open(io.BytesIO(data)) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"), np.int16)
    out = decode(data)
    assert out.shape == expected.shape
    assert np.abs(out.astype(np.int16) - expected).mean() < 1.5


def test_webp_exif_orientation_is_applied():
    data = with_orientation(marked_image(), "WEBP", 6, lossless=True)
    out = decode(data)
    assert out.shape == (64, 48, 3)
    assert_colour(corner(out, "tr"), RED, 0)
    assert_colour(corner(out, "br"), GREEN, 0)


def test_malformed_exif_is_ignored():
    jpeg = image_bytes(marked_image(), "JPEG", quality=95)
    app1 = b"Exif\0\0MM\0*\xff\xff\xff\xff garbage"
    data = jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]
    out = decode(data)
    assert out.shape == (48, 64, 3)
    assert_colour(corner(out, "tl"), RED)


# --- colour modes ------------------------------------------------------------------------


def test_rgba_png_is_composited_on_white():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:, :4] = (0, 0, 0, 0)  # fully transparent black -> white
    rgba[:, 4:6] = (0, 0, 0, 128)  # half-transparent black -> mid grey
    rgba[:, 6:] = (255, 0, 0, 255)  # opaque red stays red
    out = decode(image_bytes(rgba, "PNG"))
    assert (out[:, :4] == 255).all()
    assert np.abs(out[:, 4:6].astype(int) - 127).max() <= 1
    assert (out[:, 6:] == RED).all()


def test_grey_alpha_png_is_composited_on_white():
    la = Image.fromarray(np.dstack([np.zeros((4, 4), np.uint8)] * 2), "LA")
    assert (decode(image_bytes(la, "PNG")) == 255).all()


def test_palette_png_with_transparency():
    im = Image.new("P", (6, 4), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (3, 0, 6, 4))
    out = decode(image_bytes(im, "PNG", transparency=0))
    assert (out[:, :3] == WHITE).all()
    assert (out[:, 3:] == RED).all()


def test_rgb_png_with_transparent_colour_key():
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[:, 2:] = BLUE
    out = decode(image_bytes(rgb, "PNG", transparency=(0, 0, 0)))
    assert (out[:, :2] == WHITE).all()
    assert (out[:, 2:] == BLUE).all()


def test_16bit_grey_png_is_scaled_not_clipped():
    grey16 = np.arange(0, 65536, 256, dtype=np.uint16).reshape(16, 16)
    data = image_bytes(Image.fromarray(grey16), "PNG")
    out = decode(data)
    assert_rgb_array(out, 16, 16)
    expected = (grey16 >> 8).astype(np.uint8)
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], expected)


def test_16bit_grey_png_colour_key_becomes_white():
    grey16 = np.full((4, 4), 1000, np.uint16)
    grey16[:, 2:] = 2000
    out = decode(image_bytes(Image.fromarray(grey16), "PNG", transparency=1000))
    assert (out[:, :2] == WHITE).all()
    assert (out[:, 2:] == 2000 >> 8).all()


def test_16bit_rgb_png_keeps_the_high_byte():
    rgb16 = np.random.default_rng(1).integers(0, 65536, (8, 8, 3), dtype=np.uint16)
    ok, png = cv2.imencode(".png", rgb16[..., ::-1])  # cv2 writes BGR
    assert ok
    np.testing.assert_array_equal(decode(png.tobytes()), (rgb16 >> 8).astype(np.uint8))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_greyscale_becomes_three_equal_channels(fmt, rgb_image):
    grey = Image.fromarray(rgb_image).convert("L")
    out = decode(image_bytes(grey, fmt))
    assert_rgb_array(out, *rgb_image.shape[:2])
    assert (out[..., 0] == out[..., 1]).all()
    assert (out[..., 1] == out[..., 2]).all()
    if fmt == "PNG":
        np.testing.assert_array_equal(out[..., 0], np.asarray(grey))


def test_bilevel_png():
    bits = Image.fromarray(np.eye(8, dtype=bool))
    out = decode(image_bytes(bits, "PNG"))
    np.testing.assert_array_equal(out[..., 0], np.eye(8, dtype=np.uint8) * 255)


def test_cmyk_jpeg_matches_pillow_conversion():
    image = marked_image()
    image[-12:, :12] = BLUE
    data = image_bytes(Image.fromarray(image).convert("CMYK"), "JPEG", quality=95)
    assert b"Adobe" in data  # Adobe's inverted CMYK, as Photoshop writes it
    with Image.open(io.BytesIO(data)) as im:
        expected = np.asarray(im.convert("RGB"), np.int16)
    out = decode(data)
    assert np.abs(out.astype(np.int16) - expected).max() <= 2
    assert_colour(corner(out, "tl"), RED)
    assert_colour(corner(out, "bl"), BLUE)


def test_animated_gif_gives_the_first_frame():
    frames = [Image.new("RGB", (10, 6), colour) for colour in (RED, GREEN, BLUE)]
    data = image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 3
    out = decode(data)
    assert_rgb_array(out, 6, 10)
    assert (out == RED).all()


def test_gif_transparency_becomes_white():
    im = Image.new("P", (6, 4), 0)
    im.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    im.paste(1, (0, 0, 3, 4))
    out = decode(image_bytes(im, "GIF", transparency=0))
    assert (out[:, :3] == GREEN).all()
    assert (out[:, 3:] == WHITE).all()


def test_lossless_webp_is_exact(rgb_image):
    data = image_bytes(rgb_image, "WEBP", lossless=True)
    assert probe(data) == ImageInfo("webp", "image/webp", 64, 48)
    np.testing.assert_array_equal(decode(data), rgb_image)


def test_lossy_webp(rgb_image):
    data = image_bytes(rgb_image, "WEBP", quality=90)
    out = decode(data)
    assert_rgb_array(out, 48, 64)
    assert np.abs(out.astype(int) - rgb_image).mean() < 6


def test_webp_alpha_is_composited_on_white():
    rgba = np.zeros((4, 8, 4), np.uint8)
    rgba[:, 4:] = (0, 0, 255, 255)
    out = decode(image_bytes(rgba, "WEBP", lossless=True))
    assert (out[:, :4] == WHITE).all()
    assert (out[:, 4:] == BLUE).all()


def test_animated_webp_gives_the_first_frame():
    frames = [Image.new("RGB", (10, 6), colour) for colour in (RED, GREEN, BLUE)]
    data = image_bytes(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    out = decode(data)
    assert_rgb_array(out, 6, 10)
    assert (out == RED).all()


# --- HEIC --------------------------------------------------------------------------------


def heic_bytes(image: Image.Image, **args) -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif build has no HEVC encoder to write test files")
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, quality=95, **args)
    return out.getvalue()


def test_heic_decodes():
    data = heic_bytes(Image.fromarray(marked_image()))
    assert probe(data) == ImageInfo("heif", "image/heic", 64, 48)
    out = decode(data)
    assert_rgb_array(out, 48, 64)
    assert_colour(corner(out, "tl"), RED)
    assert_colour(corner(out, "tr"), GREEN)


def test_heic_rotation_is_applied_once():
    # pillow_heif turns the EXIF orientation into the container's irot transform; the
    # EXIF tag stays in the file and must not rotate the image a second time.
    exif = Image.Exif()
    exif[0x0112] = 6
    data = heic_bytes(Image.fromarray(marked_image()), exif=exif.tobytes())
    out = decode(data)
    assert out.shape == (64, 48, 3)
    assert_colour(corner(out, "tr"), RED)
    assert_colour(corner(out, "br"), GREEN)


def test_heic_alpha_is_composited_on_white():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[:, 8:] = (255, 0, 0, 255)
    out = decode(heic_bytes(Image.fromarray(rgba)))
    assert_colour(out[4:12, :4].reshape(-1, 3).mean(axis=0), WHITE, 10)
    assert_colour(out[4:12, 12:].reshape(-1, 3).mean(axis=0), RED, 30)


def test_truncated_heic_is_corrupt():
    data = heic_bytes(Image.fromarray(synthetic_rgb()))
    with pytest.raises(CorruptImage):
        decode(data[: len(data) // 2])


# --- refusals ----------------------------------------------------------------------------

NOT_IMAGES = {
    "empty": b"",
    "html": b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
    "svg_bare": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    "text": b"just some text\n",
    "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    "random": np.random.default_rng(7).integers(0, 256, 4096, np.uint8).tobytes(),
    "avif": b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf" + b"\0" * 64,
    "mp4": b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\0" * 64,
    "riff_wave": b"RIFF\x24\0\0\0WAVEfmt " + b"\0" * 32,
    "zip": b"PK\x03\x04" + b"\0" * 64,
    "gif_short": b"GIF8",
}


@pytest.mark.parametrize("name", sorted(NOT_IMAGES))
def test_non_images_are_unsupported(name):
    data = NOT_IMAGES[name]
    with pytest.raises(UnsupportedImage) as excinfo:
        decode(data)
    assert str(excinfo.value) == UNSUPPORTED_MESSAGE
    with pytest.raises(UnsupportedImage):
        probe(data)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM", "TGA"])
def test_other_image_formats_are_unsupported(fmt, rgb_image):
    with pytest.raises(UnsupportedImage):
        decode(image_bytes(rgb_image, fmt))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_truncated_files_are_corrupt(fmt):
    data = image_bytes(synthetic_rgb(96, 128), fmt)
    for cut in (20, len(data) // 2, len(data) * 9 // 10):
        with pytest.raises(CorruptImage) as excinfo:
            decode(data[:cut])
        assert str(excinfo.value) == CORRUPT_MESSAGE


def test_real_jpeg_cut_in_half_is_corrupt(photos_dir):
    data = (photos_dir / "colorful-cups.jpg").read_bytes()
    with pytest.raises(CorruptImage):
        decode(data[: len(data) // 2])


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff<html><script>alert(1)</script></html>",
        b"GIF89a<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
        b"RIFF\0\0\0\0WEBP<html><script>alert(1)</script></html>",
    ],
)
def test_polyglots_behind_an_allowed_signature_are_corrupt(data):
    with pytest.raises(CorruptImage):
        decode(data)


def test_decoded_shape_must_match_the_header(monkeypatch, rgb_image):
    data = image_bytes(rgb_image, "JPEG")
    wrong = np.zeros((10, 10, 3), np.uint8)
    monkeypatch.setattr(decode_module.cv2, "imdecode", lambda *_: wrong)
    with pytest.raises(CorruptImage):
        decode(data)


def test_jpeg_falls_back_to_pillow_when_opencv_refuses(monkeypatch, rgb_image):
    data = image_bytes(rgb_image, "JPEG", quality=95)
    expected = decode(data).astype(int)
    monkeypatch.setattr(decode_module.cv2, "imdecode", lambda *_: None)
    out = decode(data)
    assert out.shape == expected.shape
    assert np.abs(out - expected).mean() < 1.5


def test_zero_sized_headers_are_corrupt():
    with pytest.raises(CorruptImage):
        decode(crafted_png(0, 10))
    gif = b"GIF89a\0\0\0\0\0\0\0" + b",\0\0\0\0\0\0\0\0\0" + b"\x02\x02D\x01\0;"
    with pytest.raises(CorruptImage):
        decode(gif)


def test_probe_needs_the_frame_header_in_the_prefix():
    # A 160 KB ICC profile (three APP2 segments) sits before the JPEG frame header.
    icc = bytes(range(256)) * 640
    data = image_bytes(marked_image(), "JPEG", icc_profile=icc)
    with pytest.raises(CorruptImage):
        probe(data[: 64 * 1024])
    assert probe(data[: 256 * 1024]).width == 64
    assert decode(data).shape == (48, 64, 3)


def test_errors_are_all_image_errors():
    for error in (CorruptImage, ImageTooLarge, UnsupportedImage):
        assert issubclass(error, ImageError)


# --- size limit --------------------------------------------------------------------------


def test_png_bomb_is_refused_from_the_header(monkeypatch):
    data = crafted_png(30_000, 30_000)  # 900 MP, 2.7 GB of RGB if ever decoded

    def no_decoder(*args, **kwargs):
        raise AssertionError("a decoder ran on an image that is too large")

    monkeypatch.setattr(decode_module.Image, "open", no_decoder)
    monkeypatch.setattr(decode_module.cv2, "imdecode", no_decoder)
    process = psutil.Process()
    rss_before = process.memory_info().rss
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImageTooLarge) as excinfo:
            decode(data)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert process.memory_info().rss - rss_before < 50 * 2**20
    assert peak < 50 * 2**20
    assert elapsed < 0.5
    message = str(excinfo.value)
    assert "30000x30000" in message
    assert "900.0 megapixels" in message
    assert "50 megapixels" in message


@pytest.mark.parametrize(
    "data",
    [
        # JPEG: SOI, then a baseline frame header announcing 65000x65000.
        b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", 65_000, 65_000) + b"\x03",
        # GIF: 1x1 logical screen, but the first frame is 60000x60000.
        b"GIF89a\x01\0\x01\0\0\0\0,\0\0\0\0" + struct.pack("<HH", 60_000, 60_000) + b"\0\x02\x02D\x01\0;",
        # WebP: extended header with a 16384x16384 canvas.
        b"RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0" + (16_383).to_bytes(3, "little") * 2,
    ],
    ids=["jpeg", "gif", "webp"],
)
def test_other_bombs_are_refused_from_the_header(data):
    with pytest.raises(ImageTooLarge):
        decode(data)


def test_max_pixels_is_inclusive(rgb_image):
    data = image_bytes(rgb_image, "PNG")
    assert decode(data, max_pixels=48 * 64).shape == (48, 64, 3)
    with pytest.raises(ImageTooLarge):
        decode(data, max_pixels=48 * 64 - 1)


def test_default_limit():
    assert DEFAULT_MAX_PIXELS == 50_000_000
    assert probe(crafted_png(10_000, 5_000)).width == 10_000  # probe has no limit
    with pytest.raises(ImageTooLarge):
        decode(crafted_png(10_000, 5_001))


# --- progressive-JPEG scan bombs ----------------------------------------------------------


def _scans(data: bytes) -> int:
    return decode_module._jpeg_scans(data, 10**9)


def _progressive(encoder: str, rgb: np.ndarray) -> bytes:
    if encoder == "opencv":
        ok, encoded = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
        assert ok
        return encoded.tobytes()
    mode = "L" if encoder == "pillow-grey" else "RGB"
    return image_bytes(Image.fromarray(rgb).convert(mode), "JPEG", progressive=True, optimize=encoder == "pillow-optimized")


@pytest.mark.parametrize("encoder", ["opencv", "pillow", "pillow-optimized", "pillow-grey"])
def test_progressive_jpegs_as_encoders_write_them_are_accepted(encoder, rgb_image):
    data = _progressive(encoder, rgb_image)
    assert 2 <= _scans(data) <= 12
    assert probe(data).format == "jpeg"
    assert decode(data).shape == rgb_image.shape


@pytest.mark.parametrize("name", ["volna-beach.jpg", "colorful-cups.jpg", "forest-path.jpg", "evening-glow.jpg"])
def test_real_photos_have_few_scans(photos_dir, name):
    data = (photos_dir / name).read_bytes()
    assert 1 <= _scans(data) <= 12
    probe(data)


def test_a_scan_bomb_is_refused_by_probe_in_milliseconds():
    from tests.support.scan_bomb import scan_bomb

    bomb = scan_bomb(7000, 7000, 10_000)  # the attack: 941 KB, about a minute of CPU to decode
    assert len(bomb) < 1_000_000 and _scans(bomb) == 10_000
    started = time.perf_counter()
    with pytest.raises(ImageTooComplex) as refused:
        probe(bomb)
    assert time.perf_counter() - started < 0.05
    assert str(refused.value) == (
        f"This JPEG has more than {DEFAULT_MAX_SCANS} progressive scans (photos have about 10), "
        "which would take minutes to decode. Save it again as a standard JPEG or as PNG and upload that."
    )
    assert refused.value.code == "image_too_complex" and isinstance(refused.value, ImageError)
    started = time.perf_counter()
    with pytest.raises(ImageTooComplex):
        decode(bomb)
    assert time.perf_counter() - started < 0.05


def test_the_scan_limit_is_inclusive():
    from tests.support.scan_bomb import scan_bomb

    assert decode(scan_bomb(64, 48, DEFAULT_MAX_SCANS)).shape == (48, 64, 3)
    with pytest.raises(ImageTooComplex):
        probe(scan_bomb(64, 48, DEFAULT_MAX_SCANS + 1))
    assert probe(scan_bomb(64, 48, 500), max_scans=500).width == 64


def test_marker_bytes_inside_metadata_are_not_scans(rgb_image):
    """FF DA inside an APP segment (EXIF, ICC, XMP can hold any bytes) is data, not a scan."""
    data = image_bytes(rgb_image, "JPEG")
    junk = b"\xff\xda\x00\x02" * 5000
    app = b"\xff\xe2" + struct.pack(">H", len(junk) + 2) + junk
    stuffed = data[:2] + app + data[2:]
    assert _scans(stuffed) == 1
    assert decode(stuffed).shape == rgb_image.shape


def test_scans_are_counted_in_a_prefix_too():
    from tests.support.scan_bomb import scan_bomb

    bomb = scan_bomb(640, 480, 5000)
    with pytest.raises(ImageTooComplex):
        probe(bomb[: 64 * 1024])
    good = scan_bomb(640, 480, 10)
    assert probe(good[: len(good) // 2]).width == 640  # a cut-off file counts what is there
