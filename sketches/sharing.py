"""Share links: a public, expiring, revocable link to one completed sketch.

The token (256 random bits) is handed to the owner once, at creation. Only its SHA-256 is
stored, so a copy of the database does not hold live links; a short prefix tells links apart
in lists. Looking a token up hashes it and finds the row by that unique hash.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from .models import ShareLink, Sketch
from .services import Conflict, NotFound, ServiceError, _is_uuid

EXPIRY_DAYS = (1, 7, 30)
TOKEN_BYTES = 32  # 256 bits; token_urlsafe gives 43 characters
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
PREFIX_LENGTH = 6


class LinkGone(ServiceError):
    """The link existed but has expired or been revoked."""

    status = 410

    def __init__(self, state: str):
        super().__init__(f"This share link has {'expired' if state == 'expired' else 'been revoked'}.", f"link_{state}")
        self.state = state


@dataclass
class NewLink:
    link: ShareLink
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _owned_sketch(user, sketch_id) -> Sketch:
    # Sharing is the owner's act only: an admin sees other people's sketches but does not publish them.
    sketch = Sketch.objects.filter(pk=sketch_id, owner=user).first() if _is_uuid(sketch_id) else None
    if sketch is None:
        raise NotFound()
    return sketch


def create_link(user, sketch_id, *, expires_in_days: int, include_original: bool = False) -> NewLink:
    sketch = _owned_sketch(user, sketch_id)
    if expires_in_days not in EXPIRY_DAYS:
        raise ServiceError(
            f"expires_in_days must be one of {', '.join(map(str, EXPIRY_DAYS))}.", "invalid_expiry", field="expires_in_days"
        )
    if sketch.status != Sketch.Status.COMPLETED or not sketch.result_key:
        raise Conflict(f"Only a completed sketch can be shared; this one is {sketch.status}.", "sketch_not_completed")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink.objects.create(
        sketch=sketch,
        created_by=user,
        token_hash=hash_token(token),
        token_prefix=token[:PREFIX_LENGTH],
        include_original=bool(include_original),
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )
    return NewLink(link, token)


def list_links(user, sketch_id):
    """The links of one of the user's sketches, newest first, active or not."""
    return ShareLink.objects.filter(sketch=_owned_sketch(user, sketch_id)).order_by("-created_at")


def list_user_links(user):
    """Every link the user has made, newest first."""
    return ShareLink.objects.filter(sketch__owner=user).select_related("sketch").order_by("-created_at")


def revoke_link(user, sketch_id, link_id) -> ShareLink:
    """Idempotent: revoking a revoked link keeps its first revocation time."""
    sketch = _owned_sketch(user, sketch_id)
    link = ShareLink.objects.filter(pk=link_id, sketch=sketch).first() if _is_uuid(link_id) else None
    if link is None:
        raise NotFound("Share link")
    revoke(ShareLink.objects.filter(pk=link.pk))
    link.refresh_from_db()
    return link


def revoke(links) -> int:
    """Revoke the links of a queryset that are not revoked yet; returns how many changed."""
    return links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def resolve(token: str) -> ShareLink:
    """The link behind a token, counting the view. NotFound (404) or LinkGone (410) otherwise."""
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        raise NotFound("Share link")
    link = ShareLink.objects.select_related("sketch", "sketch__upload").filter(token_hash=hash_token(token)).first()
    if link is None:
        raise NotFound("Share link")
    if link.state != "active":
        raise LinkGone(link.state)
    now = timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1, last_viewed_at=now)
    return link
