"""Seed images, format-aware mutations and the oracle of the decoder fuzz.

Shared by ``fuzz/decode_fuzz.py`` (long runs) and ``tests/fuzz`` (the short version in ``make test``).

The oracle: ``decode`` and ``probe`` (and the upload check ``sketches.engine.integrity.check_complete``)
may only return a well-formed RGB array or raise one of the typed ``ImageError`` subclasses;
they must agree with each other and never decode past the pixel limit. Anything else (another exception, a wrong array, a crash, a hang, a memory blow-up) is a
failure.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT / "tests" / "photos"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif"}

# Dimensions that sit on edges: zero, one, powers of two, field maxima, signed overflows.
# fmt: off
INTERESTING_DIMS = [0, 1, 2, 7, 8, 255, 256, 4095, 4096, 7072, 7073, 16383, 16384, 32767, 32768, 65535, 65536,
                    100_000, 2**24 - 1, 2**24, 2**31 - 1, 2**31, 2**32 - 1]
# fmt: on
INTERESTING_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]


# ----------------------------------------------------------------------------- seeds
@dataclass
class Seed:
    name: str
    data: bytes


def _picture(width: int, height: int, mode: str = "RGB", seed: int = 0):
    """A small image with edges, gradients and noise, so encoders produce every kind of block."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), ((x ^ y) * 7) % 256], axis=-1)
    rgb = (rgb + rng.integers(0, 24, rgb.shape)).clip(0, 255).astype("uint8")
    rgb[height // 4 : height // 2, width // 4 : width // 2] = (20, 40, 200)
    image = Image.fromarray(rgb, "RGB")
    if mode == "RGBA":
        alpha = Image.fromarray(((x + y) * 255 // max(1, width + height - 2)).astype("uint8"), "L")
        image.putalpha(alpha)
        return image
    return image.convert(mode) if mode != "RGB" else image


def _save(image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _exif(orientation: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "FuzzCam"
    return exif.tobytes()


def generated_seeds() -> list[Seed]:
    """Small files of every accepted format and its variants (and a few refused ones)."""
    from PIL import Image

    seeds: list[Seed] = []
    add = lambda name, data: seeds.append(Seed(name, data))  # noqa: E731
    rgb = _picture(48, 32)
    rgba = _picture(40, 28, "RGBA", 1)

    # JPEG: baseline, progressive, 4:4:4, grey, CMYK, EXIF orientations, ICC, restart markers.
    add("gen-baseline.jpg", _save(rgb, "JPEG", quality=85))
    add("gen-progressive.jpg", _save(rgb, "JPEG", quality=70, progressive=True))
    add("gen-444.jpg", _save(rgb, "JPEG", quality=90, subsampling=0))
    add("gen-grey.jpg", _save(rgb.convert("L"), "JPEG"))
    add("gen-cmyk.jpg", _save(rgb.convert("CMYK"), "JPEG"))
    for orientation in (3, 6, 8):
        add(f"gen-exif{orientation}.jpg", _save(rgb, "JPEG", exif=_exif(orientation)))
    add("gen-icc.jpg", _save(rgb, "JPEG", icc_profile=b"\0" * 128 + b"fake-icc", comment=b"fuzz"))
    try:
        add("gen-restart.jpg", _save(rgb, "JPEG", restart_marker_blocks=1))
    except TypeError:  # older Pillow
        pass

    # PNG: every colour type, 16-bit, palette with transparency, text and eXIf chunks.
    add("gen-rgb.png", _save(rgb, "PNG"))
    add("gen-rgba.png", _save(rgba, "PNG"))
    add("gen-grey.png", _save(rgb.convert("L"), "PNG"))
    add("gen-la.png", _save(rgba.convert("LA"), "PNG"))
    add("gen-bilevel.png", _save(rgb.convert("1"), "PNG"))
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    add("gen-palette-trns.png", _save(palette, "PNG", transparency=0))
    import numpy as np

    add("gen-16bit.png", _save(Image.fromarray(np.asarray(_picture(24, 16).convert("L")).astype("uint16") * 257), "PNG"))
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "fuzz")
    info.add_itxt("Description", "fuzz", lang="en", tkey="d", zip=True)
    add("gen-text-exif.png", _save(rgb, "PNG", pnginfo=info, exif=_exif(6)))

    # GIF: still, transparent, animated with offsets and local palettes.
    add("gen-still.gif", _save(rgb.convert("P"), "GIF"))
    add("gen-transparent.gif", _save(palette, "GIF", transparency=0))
    frames = [_picture(32, 24, seed=i).convert("P", palette=Image.Palette.ADAPTIVE, colors=8) for i in range(3)]
    add("gen-animated.gif", _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0, disposal=2))

    # WebP: lossy, lossless, alpha (VP8X), EXIF, animated.
    add("gen-lossy.webp", _save(rgb, "WEBP", quality=70))
    add("gen-lossless.webp", _save(rgb, "WEBP", lossless=True))
    add("gen-alpha.webp", _save(rgba, "WEBP", quality=80))
    add("gen-exif.webp", _save(rgb, "WEBP", exif=_exif(6)))
    add(
        "gen-animated.webp",
        _save(frames[0].convert("RGB"), "WEBP", save_all=True, append_images=[f.convert("RGB") for f in frames[1:]], duration=50),
    )

    # HEIC (pillow-heif writes HEVC-coded HEIF).
    try:
        import pillow_heif

        variants = [
            ("gen-rgb.heic", rgb, {}),
            ("gen-rgba.heic", rgba, {}),
            ("gen-exif6.heic", _picture(64, 40, seed=3), {"exif": _exif(6)}),
            ("gen-odd-size.heic", _picture(37, 23, seed=4), {"quality": 90}),  # cropped (clap) from 64x64
        ]
        for name, image, options in variants:
            buffer = io.BytesIO()
            pillow_heif.from_pillow(image).save(buffer, **{"quality": 50, **options})
            add(name, buffer.getvalue())
    except Exception:  # no HEVC encoder in this build: HEIC seeds come only from photos
        pass

    # Refused formats, so the allow-list and the sniffing are fuzzed too.
    add("gen.bmp", _save(rgb, "BMP"))
    add("gen.tiff", _save(rgb, "TIFF"))
    add("gen.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
    add("gen-avif-brand.heic", b"\0\0\0\x18ftypavif\0\0\0\0mif1avif" + b"\0" * 32)
    return seeds


def photo_seeds(photos_dir: Path = PHOTOS, small: bool = True, full: bool = True) -> list[Seed]:
    """The sample photos, and reduced copies that keep their EXIF, ICC and XMP (faster to fuzz)."""
    from PIL import Image

    seeds = []
    for path in sorted(photos_dir.glob("*")) if photos_dir.is_dir() else []:
        if path.suffix.lower() not in PHOTO_SUFFIXES:
            continue
        data = path.read_bytes()
        if full:
            seeds.append(Seed(path.name, data))
        if small:
            with Image.open(io.BytesIO(data)) as image:
                extra = {k: image.info[k] for k in ("exif", "icc_profile", "comment") if image.info.get(k)}
                progressive = bool(image.info.get("progressive"))
                image.thumbnail((160, 160))
                fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
                if fmt == "JPEG":
                    extra["progressive"] = progressive
                small_data = _save(image.convert("RGB"), fmt, **extra)
            seeds.append(Seed(f"small-{path.stem}.{fmt.lower()}", small_data))
    return seeds


def all_seeds(full_photos: bool = True) -> list[Seed]:
    return generated_seeds() + photo_seeds(full=full_photos)


# ----------------------------------------------------------------------------- container parsing
def _png_chunks(data: bytes) -> list[list]:
    """[type, payload] of each chunk; raises ValueError unless the file parses as PNG chunks."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError
    chunks, pos = [], 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        chunks.append([kind, payload])
        pos += 12 + length
    if not chunks:
        raise ValueError
    return chunks


def _png_build(chunks, fix_crc: bool = True) -> bytes:
    out = [b"\x89PNG\r\n\x1a\n"]
    for kind, payload in chunks:
        crc = zlib.crc32(kind + payload) if fix_crc else 0xDEADBEEF
        out.append(struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc & 0xFFFFFFFF))
    return b"".join(out)


def _jpeg_segments(data: bytes) -> tuple[list[bytes], bytes]:
    """Marker segments before the first SOS (each with its marker), and the rest of the file."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError
    segments, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        segments.append(data[pos : pos + 2 + length])
        pos += 2 + length
    if not segments:
        raise ValueError
    return segments, data[pos:]


def _riff_chunks(data: bytes) -> list[list]:
    if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        raise ValueError
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        chunks.append([kind, data[pos + 8 : pos + 8 + length]])
        pos += 8 + length + (length & 1)
    if not chunks:
        raise ValueError
    return chunks


def _riff_build(chunks, size_fix: bool = True) -> bytes:
    body = b"".join(
        kind + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"") for kind, payload in chunks
    )
    size = len(body) + 4 if size_fix else 0xFFFFFFF0
    return b"RIFF" + struct.pack("<I", size) + b"WEBP" + body


def _boxes(data: bytes) -> list[bytes]:
    """Top-level ISOBMFF boxes (HEIF), each with its header."""
    if data[4:8] != b"ftyp":
        raise ValueError
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        (size,) = struct.unpack_from(">I", data, pos)
        if size < 8:
            boxes.append(data[pos:])
            break
        boxes.append(data[pos : pos + size])
        pos += size
    return boxes


# ----------------------------------------------------------------------------- mutations
Mutation = Callable[[bytes, random.Random], bytes]


def _dim(rng: random.Random, bits: int) -> int:
    limit = (1 << bits) - 1
    if rng.random() < 0.8:
        return min(rng.choice(INTERESTING_DIMS), limit)
    return rng.randint(0, limit)


def bit_flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"\xff"
    out = bytearray(data)
    # Headers hold most of the structure: aim half of the flips at the first 1 KiB.
    for _ in range(rng.choice([1, 1, 2, 4, 8])):
        span = min(len(out), 1024) if rng.random() < 0.5 else len(out)
        pos = rng.randrange(span)
        out[pos] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_set(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.choice(INTERESTING_BYTES)])
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(min(len(out), 2048) if rng.random() < 0.6 else len(out))] = rng.choice(INTERESTING_BYTES)
    return bytes(out)


def insert_bytes(data: bytes, rng: random.Random) -> bytes:
    pos = rng.randint(0, len(data))
    kind = rng.random()
    if kind < 0.4:
        blob = rng.randbytes(rng.randint(1, 64))
    elif kind < 0.7:
        blob = bytes([rng.choice(INTERESTING_BYTES)]) * rng.choice([1, 2, 16, 256, 4096])
    else:  # a copy of a piece of the file itself (duplicated markers, repeated chunks)
        start = rng.randrange(max(1, len(data)))
        blob = data[start : start + rng.randint(1, 512)]
    return data[:pos] + blob + data[pos:]


def delete_bytes(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data
    pos = rng.randrange(len(data))
    return data[:pos] + data[pos + rng.randint(1, min(256, len(data) - pos)) :]


def truncate(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data
    roll = rng.random()
    if roll < 0.4:  # inside the header
        cut = rng.randint(1, min(len(data) - 1, 600))
    elif roll < 0.6:  # just short of the end (a lost last packet)
        cut = len(data) - rng.randint(1, min(len(data) - 1, 64))
    else:
        cut = rng.randint(1, len(data) - 1)
    return data[:cut]


def edit_dimensions(data: bytes, rng: random.Random) -> bytes:
    """Set the header's width/height fields to zero, huge or edge values (format-aware)."""
    try:
        if data.startswith(b"\x89PNG"):
            chunks = _png_chunks(data)
            for chunk in chunks:
                if chunk[0] == b"IHDR" and len(chunk[1]) >= 13:
                    w, h = struct.unpack_from(">II", chunk[1])
                    which = rng.randrange(4)
                    w = _dim(rng, 31) if which in (0, 2) else w
                    h = _dim(rng, 31) if which in (1, 2) else h
                    if which == 3:  # bit depth / colour type / interlace
                        payload = bytearray(chunk[1])
                        payload[8 + rng.randrange(5)] = rng.choice([0, 1, 2, 3, 4, 6, 8, 16, 255])
                        chunk[1] = bytes(payload)
                    else:
                        chunk[1] = struct.pack(">II", w, h) + chunk[1][8:]
            return _png_build(chunks, fix_crc=rng.random() < 0.85)
        if data.startswith(b"\xff\xd8"):
            segments, rest = _jpeg_segments(data)
            for i, segment in enumerate(segments):
                if 0xC0 <= segment[1] <= 0xCF and segment[1] not in (0xC4, 0xC8, 0xCC) and len(segment) >= 9:
                    out = bytearray(segment)
                    which = rng.randrange(4)
                    if which in (0, 2):
                        struct.pack_into(">H", out, 5, _dim(rng, 16))
                    if which in (1, 2):
                        struct.pack_into(">H", out, 7, _dim(rng, 16))
                    if which == 3:  # precision or component count/sampling
                        out[rng.choice([4, 9, 11, 12])] = (
                            rng.choice([0, 1, 3, 4, 8, 12, 16, 0x11, 0x22, 0x44, 255]) if len(out) > 12 else 0
                        )
                    segments[i] = bytes(out)
            return data[:2] + b"".join(segments) + rest
        if data[:4] == b"RIFF":
            chunks = _riff_chunks(data)
            for chunk in chunks:
                payload = bytearray(chunk[1])
                if chunk[0] == b"VP8X" and len(payload) >= 10:
                    payload[4:7] = (_dim(rng, 24) - 1 & 0xFFFFFF).to_bytes(3, "little")
                    payload[7:10] = (_dim(rng, 24) - 1 & 0xFFFFFF).to_bytes(3, "little")
                    if rng.random() < 0.3:
                        payload[0] = rng.randrange(256)  # feature flags (alpha, animation, EXIF...)
                elif chunk[0] == b"VP8 " and len(payload) >= 10:
                    struct.pack_into("<HH", payload, 6, _dim(rng, 16), _dim(rng, 16))
                elif chunk[0] == b"VP8L" and len(payload) >= 5:
                    bits = struct.unpack_from("<I", payload, 1)[0]
                    bits = (bits & ~0xFFFFFFF) | (_dim(rng, 14) - 1 & 0x3FFF) | ((_dim(rng, 14) - 1 & 0x3FFF) << 14)
                    struct.pack_into("<I", payload, 1, bits & 0xFFFFFFFF)
                elif chunk[0] == b"ANMF" and len(payload) >= 12:
                    payload[6:9] = (_dim(rng, 24) - 1 & 0xFFFFFF).to_bytes(3, "little")
                chunk[1] = bytes(payload)
            return _riff_build(chunks, size_fix=rng.random() < 0.9)
        if data[:3] == b"GIF":
            out = bytearray(data)
            if rng.random() < 0.5 and len(out) >= 10:  # logical screen
                struct.pack_into("<HH", out, 6, _dim(rng, 16), _dim(rng, 16))
            descriptor = out.find(b"\x2c", 13)
            if descriptor > 0 and descriptor + 9 <= len(out):  # first image descriptor (often)
                struct.pack_into("<HHHH", out, descriptor + 1, *(_dim(rng, 16) if rng.random() < 0.5 else 0 for _ in range(4)))
            if rng.random() < 0.2 and len(out) > 10:
                out[10] = rng.randrange(256)  # colour table flags and size
            return bytes(out)
        if data[4:8] == b"ftyp":
            # The size libheif reports is ispe (coded size) cropped by clap (clean aperture):
            # edit either or both, in any of the items.
            out = bytearray(data)
            width, height = _dim(rng, 32), _dim(rng, 32)
            which = rng.randrange(3)
            edited = False
            ispe = [match.start() for match in re.finditer(b"ispe", out)]
            clap = [match.start() for match in re.finditer(b"clap", out)]
            if ispe and which in (0, 2):
                pos = rng.choice(ispe)
                if pos + 16 <= len(out):  # ispe: version/flags, width, height
                    struct.pack_into(">II", out, pos + 8, width, height)
                    edited = True
            if clap and which in (1, 2):
                pos = rng.choice(clap)
                if pos + 20 <= len(out):  # clap: width N/D, height N/D, offsets
                    struct.pack_into(">IIII", out, pos + 4, width, rng.choice([1, 1, 2, 0]), height, rng.choice([1, 1, 2, 0]))
                    edited = True
            if edited:
                return bytes(out)
    except (ValueError, struct.error, IndexError):
        pass
    return bit_flip(data, rng)


def edit_box_sizes(data: bytes, rng: random.Random) -> bytes:
    """Corrupt a length field: PNG chunk, JPEG segment, RIFF chunk, ISOBMFF box or GIF sub-block."""
    out = bytearray(data)
    try:
        if data.startswith(b"\x89PNG"):
            chunks = _png_chunks(data)
            offsets, pos = [], 8
            for _, payload in chunks:
                offsets.append(pos)
                pos += 12 + len(payload)
            struct.pack_into(
                ">I", out, rng.choice(offsets), rng.choice([0, 1, 13, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 20)])
            )
        elif data.startswith(b"\xff\xd8"):
            segments, _ = _jpeg_segments(data)
            pos = 2 + sum(len(s) for s in segments[: rng.randrange(len(segments))])
            struct.pack_into(">H", out, pos + 2, rng.choice([0, 1, 2, 3, 0xFFFF, rng.randrange(1 << 16)]))
        elif data[:4] == b"RIFF":
            chunks = _riff_chunks(data)
            pos = 12
            for _, payload in chunks[: rng.randrange(len(chunks))]:
                pos += 8 + len(payload) + (len(payload) & 1)
            struct.pack_into("<I", out, pos + 4, rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 20)]))
        elif data[4:8] == b"ftyp":
            # Any box of the tree: find a known four-character code and rewrite the size before it.
            codes = [
                b"meta",
                b"hdlr",
                b"pitm",
                b"iloc",
                b"iinf",
                b"infe",
                b"iprp",
                b"ipco",
                b"ispe",
                b"hvcC",
                b"ipma",
                b"mdat",
                b"iref",
                b"colr",
                b"pixi",
                b"irot",
            ]
            hits = [i - 4 for code in codes for i in [data.find(code)] if i >= 4]
            if hits:
                struct.pack_into(">I", out, rng.choice(hits), rng.choice([0, 1, 7, 8, 9, 0xFFFFFFFF, rng.randrange(1 << 16)]))
        else:
            return byte_set(data, rng)
    except (ValueError, struct.error, IndexError):
        return byte_set(data, rng)
    return bytes(out)


def reorder_chunks(data: bytes, rng: random.Random) -> bytes:
    """Swap, duplicate or drop chunks/segments/boxes, keeping the container's signature."""

    def shuffle(items: list) -> list:
        items = list(items)
        if not items:
            return items
        action = rng.randrange(3)
        if action == 0 and len(items) > 1:
            i, j = rng.sample(range(len(items)), 2)
            items[i], items[j] = items[j], items[i]
        elif action == 1:
            i = rng.randrange(len(items))
            items.insert(rng.randrange(len(items) + 1), items[i])
        elif len(items) > 1:
            del items[rng.randrange(len(items))]
        return items

    try:
        if data.startswith(b"\x89PNG"):
            return _png_build(shuffle(_png_chunks(data)))
        if data.startswith(b"\xff\xd8"):
            segments, rest = _jpeg_segments(data)
            return data[:2] + b"".join(shuffle(segments)) + rest
        if data[:4] == b"RIFF":
            return _riff_build(shuffle(_riff_chunks(data)))
        if data[4:8] == b"ftyp":
            boxes = _boxes(data)
            return boxes[0] + b"".join(shuffle(boxes[1:]))
    except (ValueError, struct.error, IndexError):
        pass
    return delete_bytes(data, rng)


def splice(data: bytes, rng: random.Random, others: list[bytes] | None = None) -> bytes:
    """A header of one file on the body of another, or one file glued after another (polyglots)."""
    other = rng.choice(others) if others else data[::-1]
    if rng.random() < 0.5:
        cut = rng.randint(0, min(len(data), 512))
        return data[:cut] + other[cut:]
    return other[: rng.randint(1, max(1, min(len(other), 64)))] + data


MUTATIONS: dict[str, Mutation] = {
    "bit_flip": bit_flip,
    "byte_set": byte_set,
    "insert": insert_bytes,
    "delete": delete_bytes,
    "truncate": truncate,
    "dimensions": edit_dimensions,
    "lengths": edit_box_sizes,
    "reorder": reorder_chunks,
    "splice": splice,
}
# Structure-aware edits get more of the budget than blind byte noise.
WEIGHTS = {
    "bit_flip": 3,
    "byte_set": 2,
    "insert": 2,
    "delete": 2,
    "truncate": 3,
    "dimensions": 5,
    "lengths": 3,
    "reorder": 3,
    "splice": 1,
}


def mutate(data: bytes, rng: random.Random, others: list[bytes] | None = None, max_steps: int = 3) -> tuple[bytes, list[str]]:
    """Apply 1..max_steps mutations; return the result and their names."""
    names = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=rng.randint(1, max_steps))
    for name in names:
        data = splice(data, rng, others) if name == "splice" else MUTATIONS[name](data, rng)
    return data, names


# ----------------------------------------------------------------------------- oracle
class OracleViolation(AssertionError):
    """decode/probe answered, but wrongly."""


@dataclass
class Verdict:
    outcome: str  # "decoded" or the ImageError subclass decode raised
    probe: str  # "ok" or the ImageError subclass probe raised
    format: str = ""
    size: str = ""  # the header's WxH when probe read one
    complete: str = ""  # what the upload check (sketches.engine.integrity.check_complete) said, after probe
    notes: list[str] = field(default_factory=list)


def check(data: bytes, max_pixels: int) -> Verdict:
    """Run probe and decode on ``data``. Returns the verdict; any other exception propagates,
    and answers that break the contract raise ``OracleViolation``."""
    import numpy as np

    from sketches.engine import ImageError, ImageTooLarge, decode, probe

    try:
        info = probe(data)
        probe_outcome, fmt, size = "ok", info.format, f"{info.width}x{info.height}"
    except ImageError as exc:
        info, probe_outcome, fmt, size = None, type(exc).__name__, "", ""
    complete = ""
    if info is not None and info.pixels <= max_pixels:
        # Confirm runs this on uploads whose header is within the pixel limit (services.confirm_upload,
        # in the web process): it too may only raise typed errors.
        from sketches.engine.integrity import check_complete

        try:
            check_complete(data, info.format)
            complete = "ok"
        except ImageError as exc:
            complete = type(exc).__name__
    try:
        rgb = decode(data, max_pixels)
    except ImageError as exc:
        outcome = type(exc).__name__
        if info is None and outcome != probe_outcome:
            raise OracleViolation(f"probe raised {probe_outcome} but decode raised {outcome}") from exc
        if info is not None and info.pixels > max_pixels and not isinstance(exc, ImageTooLarge):
            raise OracleViolation(f"header says {info.width}x{info.height} > limit, decode raised {outcome}") from exc
        return Verdict(outcome, probe_outcome, fmt, size, complete)
    if info is None:
        raise OracleViolation(f"probe raised {probe_outcome} but decode returned an image")
    if info.pixels > max_pixels:
        raise OracleViolation(f"decoded {info.width}x{info.height} past the {max_pixels}-pixel limit")
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise OracleViolation(f"decode returned {type(rgb).__name__} {getattr(rgb, 'dtype', '')} {getattr(rgb, 'shape', '')}")
    if not (rgb.flags.c_contiguous and rgb.flags.writeable):
        raise OracleViolation("decode returned a non-contiguous or read-only array")
    if sorted(rgb.shape[:2]) != sorted((info.height, info.width)):
        raise OracleViolation(f"decoded shape {rgb.shape} does not match the header's {info.width}x{info.height}")
    return Verdict("decoded", probe_outcome, fmt, size, complete)


def guess_suffix(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data[:3] == b"GIF":
        return ".gif"
    if data[:4] == b"RIFF":
        return ".webp"
    if data[4:8] == b"ftyp":
        return ".heic"
    return ".bin"
