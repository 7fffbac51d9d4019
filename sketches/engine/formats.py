"""The image types the service knows: one table for the engine, storage keys, downloads and pages."""

from __future__ import annotations

from typing import NamedTuple


class ImageType(NamedTuple):
    format: str  # the engine's name for it
    extension: str  # of stored keys
    label: str  # what people call it (HEIF and HEIC read as one)


# The registered name of each format comes first: it is the one the engine reports.
IMAGE_TYPES: dict[str, ImageType] = {
    "image/jpeg": ImageType("jpeg", "jpg", "JPEG"),
    "image/jpg": ImageType("jpeg", "jpg", "JPEG"),  # not registered, but some clients send it
    "image/png": ImageType("png", "png", "PNG"),
    "image/webp": ImageType("webp", "webp", "WebP"),
    "image/gif": ImageType("gif", "gif", "GIF"),
    "image/heif": ImageType("heif", "heif", "HEIC"),
    "image/heic": ImageType("heif", "heic", "HEIC"),
}
# Format name -> MIME type, the first of the table's names for it.
FORMAT_MIME_TYPES: dict[str, str] = {t.format: mime for mime, t in reversed(IMAGE_TYPES.items())}


def mime_for_extension(extension: str) -> str | None:
    """The MIME type of a stored key's extension (``jpeg`` too), or None."""
    extension = extension.lower()
    return next((mime for mime, t in IMAGE_TYPES.items() if extension in (t.extension, t.format)), None)
