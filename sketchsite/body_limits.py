"""How big a request body each route takes, so that the server can refuse a bigger one unread.

A view that takes more than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (the API's JSON and the pages'
forms are small) says so with ``@accepts_body(limit)``; every other path, including the ones
no view answers, gets ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

from collections.abc import Callable

from django.conf import settings
from django.urls import Resolver404, resolve


def accepts_body(limit: Callable[[], int]):
    """Mark a view as taking bodies of up to ``limit()`` bytes (read per request: settings decide)."""

    def mark(view):
        view.max_body_size = limit
        return view

    return mark


def body_limit(path: str) -> int:
    """The most bytes of body a request to ``path`` may carry."""
    try:
        view = resolve(path).func
    except Resolver404:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    limit = getattr(view, "max_body_size", None)
    return limit() if limit is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
