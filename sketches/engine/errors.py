"""Typed errors of the engine. Messages are written for the person who uploaded the file."""


class EngineError(Exception):
    """Base class: anything the engine refuses on purpose."""

    code = "engine_error"


class ImageError(EngineError):
    """The input bytes cannot become an image we are willing to process."""

    code = "invalid_image"


class UnsupportedImage(ImageError):
    """Not one of the allow-listed formats (JPEG, PNG, WebP, GIF, HEIC/HEIF)."""

    code = "unsupported_image"


class CorruptImage(ImageError):
    """An allow-listed format whose data is truncated or damaged."""

    code = "corrupt_image"


class ImageTooLarge(ImageError):
    """The header announces more pixels than the limit allows."""

    code = "image_too_large"


class ImageTooComplex(ImageError):
    """The image would cost far more CPU to decode than its size suggests (a JPEG scan bomb)."""

    code = "image_too_complex"


class InvalidParameter(EngineError, ValueError):
    """Unknown style, method, output format or a parameter out of range."""

    code = "invalid_parameter"
