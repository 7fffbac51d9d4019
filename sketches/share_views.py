"""The public page of a share link, ``/s/<token>``: no login, that one sketch and nothing else."""

import math
from functools import wraps
from pathlib import PurePath

from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.throttles import throttle_wait

from . import sharing
from .engine.catalog import METHODS, STYLES
from .services import NotFound
from .share_throttle import SHARE_THROTTLES
from .storage import current_base_url, get_storage

# Photos a browser can show; a HEIC original (most browsers cannot) leaves the page with the sketch alone.
BROWSER_IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/webp", "image/gif"}


def _unlisted(view):
    """Every answer of these pages stays out of search engines, caches and Referer headers."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"  # the token is in the address
        response["Cache-Control"] = "no-store"  # a revoked link must not live on in a cache
        return response

    return wrapper


@require_safe
@_unlisted
def shared_sketch(request, token):
    wait = throttle_wait(request, SHARE_THROTTLES)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        response = render(request, "sketches/share/throttled.html", {"seconds": seconds}, status=429)
        response["Retry-After"] = str(seconds)
        return response
    try:
        link = sharing.resolve(token)
    except NotFound:
        return render(request, "sketches/share/missing.html", status=404)
    except sharing.LinkGone as gone:
        return render(request, "sketches/share/gone.html", {"state": gone.state}, status=410)
    # Local media URLs point back at the origin the visitor used.
    current_base_url.set(request.build_absolute_uri("/"))
    sketch = link.sketch
    storage = get_storage()
    extension = PurePath(sketch.result_key).suffix or ".png"
    # A neutral file name: the photo's own name could say who is in it.
    result_url = storage.download_url(sketch.result_key, filename=f"sketch-{sketch.style}-{sketch.method}{extension}")
    original_url = None
    upload = sketch.upload
    if link.include_original and upload.content_type in BROWSER_IMAGE_TYPES:
        original_url = storage.download_url(upload.key, filename=f"photo{PurePath(upload.key).suffix}")
    context = {
        "sketch": sketch,
        "style_name": next((s.name for s in STYLES if s.id == sketch.style), sketch.style),
        "method_name": next((m.name for m in METHODS if m.id == sketch.method), sketch.method),
        "link": link,
        "result_url": result_url,
        "original_url": original_url,
        "expires_in": storage.expires_in,
    }
    return render(request, "sketches/share/page.html", context)
