"""The business actions on uploads and sketches. Views, serializers, consumers and the admin call these."""

import logging
import uuid
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sketchsite.exceptions import ServiceError

from . import engine, lifecycle, quota
from .engine.catalog import METHOD_IDS, STYLE_IDS
from .engine.formats import IMAGE_TYPES
from .engine.integrity import check_complete
from .models import Sketch, Upload
from .payloads import result_filename
from .storage import ObjectMissing, StorageError, get_storage

logger = logging.getLogger(__name__)


class NotFound(ServiceError):
    status = 404

    def __init__(self, what: str = "Sketch"):
        super().__init__(f"{what} not found.", "not_found")


class Conflict(ServiceError):
    status = 409


class TooManyTasks(ServiceError):
    status = 429


class StorageUnavailable(ServiceError):
    status = 503


class QuotaExceeded(Conflict):
    """The account's storage is full: the client must delete something first, not wait."""


class TooManyPendingUploads(ServiceError):
    status = 429


def _owned(queryset, user):
    return queryset if user.is_admin else queryset.filter(owner=user)


def _human_size(size: int) -> str:
    return f"{size / 2**20:.0f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"


# ----------------------------------------------------------------------------- uploads
def create_upload(user, *, filename: str, content_type: str, size: int):
    """Register an upload and hand back a presigned POST the browser sends the file to."""
    content_type = (content_type or "").strip().lower()
    if content_type not in settings.ALLOWED_FILE_TYPES:
        raise ServiceError(
            f"Files of type {content_type or 'unknown'} are not accepted. Allowed: {', '.join(settings.ALLOWED_FILE_TYPES)}.",
            "unsupported_type",
        )
    if size <= 0:
        raise ServiceError("The file is empty.", "empty_file")
    if size > settings.MAX_FILE_SIZE:
        raise ServiceError(
            f"The file is {_human_size(size)}; the limit is {_human_size(settings.MAX_FILE_SIZE)}.", "file_too_large"
        )
    # The key never contains the client's file name: only its owner and a fresh id.
    key = f"uploads/{user.pk}/{uuid.uuid4().hex}.{IMAGE_TYPES[content_type].extension if content_type in IMAGE_TYPES else 'bin'}"
    original_name = PurePath((filename or "").replace("\\", "/")).name[:255]
    with transaction.atomic():
        _lock_owner(user)  # concurrent presigns must not both pass the limits
        _check_pending_uploads(user)
        _check_room(user, size, f"This {_human_size(size)} upload")
        upload = Upload.objects.create(owner=user, key=key, original_name=original_name, content_type=content_type, size=size)
    try:
        # The form accepts no more than the declared size: that is what the quota reserved.
        presigned = get_storage().presign_upload(key, content_type, size)
    except StorageError as exc:
        upload.delete()
        raise StorageUnavailable(f"Storage is unavailable: {exc}", "storage_unavailable") from exc
    return upload, presigned


def _lock_owner(user) -> None:
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _check_pending_uploads(user) -> None:
    count, wait = quota.pending_uploads(user)
    if count >= settings.MAX_PENDING_UPLOADS:
        raise TooManyPendingUploads(
            f"You have {count} uploads waiting to be sent and confirmed (the limit is {settings.MAX_PENDING_UPLOADS}). "
            f"Finish them (POST the file, then /api/upload/confirm) or wait {int(wait)} s for the oldest form to expire.",
            "too_many_pending_uploads",
            retry_after=int(wait) + 1,
        )


def _check_room(user, size: int, what: str) -> None:
    usage = quota.usage(user)
    if usage.quota and usage.used + size > usage.quota:
        raise QuotaExceeded(
            f"{what} needs up to {quota.human_size(size)} but only {quota.human_size(usage.free)} of your "
            f"{quota.human_size(usage.quota)} of storage is free ({quota.human_size(usage.originals + usage.pending)} "
            f"in photos, {quota.human_size(usage.results + usage.reserved)} in drawings). "
            "Delete sketches you no longer need (a photo goes with its last sketch), then try again.",
            "storage_quota_exceeded",
            used=usage.used,
            quota=usage.quota,
        )


def get_upload(user, upload_id) -> Upload:
    upload = _owned(Upload.objects, user).filter(pk=upload_id).first() if _is_uuid(upload_id) else None
    if upload is None:
        raise NotFound("Upload")
    return upload


UPLOAD_CLOSED_MESSAGE = "This upload form has already been used{why}; ask for a new one (POST /api/upload/presigned-url)."


def check_upload_open(key: str) -> None:
    """An upload form writes once: only while its upload is pending and nothing is stored yet.

    Raises ``Conflict`` otherwise. The signed form stays valid for its whole expiry, so without
    this a replay could replace a confirmed photo behind the checks, or write a file no row
    points to after the upload was deleted.
    """
    status = Upload.objects.filter(key=key).values_list("status", flat=True).first()
    if status is None:
        raise Conflict(UPLOAD_CLOSED_MESSAGE.format(why=" and its upload no longer exists"), "upload_closed")
    if status != Upload.Status.PENDING:
        raise Conflict(UPLOAD_CLOSED_MESSAGE.format(why=f" and its upload is {status}"), "upload_closed")
    try:
        get_storage().head(key)
    except ObjectMissing:
        return
    raise Conflict(UPLOAD_CLOSED_MESSAGE.format(why=": a file was already sent with it"), "upload_closed")


def _reject(upload: Upload, message: str, code: str):
    storage = get_storage()
    try:
        storage.delete(upload.key)
    except StorageError:
        logger.warning("could not delete rejected upload %s", upload.key, exc_info=True)
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.Status.REJECTED, rejection_reason=message[:255], updated_at=timezone.now()
    )
    raise ServiceError(message, code)


def confirm_upload(user, upload_id) -> Upload:
    """Check what really arrived in storage: size, magic bytes, header dimensions."""
    upload = get_upload(user, upload_id)
    if upload.status == Upload.Status.CONFIRMED:
        return upload  # confirming twice is harmless
    if upload.status == Upload.Status.REJECTED:
        raise ServiceError(f"This upload was rejected: {upload.rejection_reason}", "upload_rejected")
    storage = get_storage()
    try:
        info = storage.head(upload.key)
    except ObjectMissing:
        raise ServiceError("The file has not been uploaded yet: POST it to the upload URL first.", "upload_missing") from None
    except StorageError as exc:
        raise StorageUnavailable("Storage is unavailable; please try again.", "storage_unavailable") from exc
    if info.size <= 0:
        _reject(upload, "The file is empty.", "empty_file")
    if info.size > settings.MAX_FILE_SIZE:
        _reject(upload, f"The file is larger than {_human_size(settings.MAX_FILE_SIZE)}.", "file_too_large")
    if upload.size and info.size > upload.size:
        _reject(upload, f"The file is larger than the {upload.size} bytes declared for it.", "file_too_large")
    try:
        data = storage.read(upload.key, length=info.size)
    except ObjectMissing:
        raise ServiceError("The file has not been uploaded yet: POST it to the upload URL first.", "upload_missing") from None
    except StorageError as exc:
        raise StorageUnavailable("Storage is unavailable; please try again.", "storage_unavailable") from exc
    try:
        image = engine.probe(data)
    except engine.ImageError as exc:
        _reject(upload, str(exc), exc.code)
    if image.mime not in settings.ALLOWED_FILE_TYPES:
        _reject(upload, f"{image.format.upper()} images are not accepted here.", "unsupported_type")
    if image.width * image.height > settings.MAX_IMAGE_PIXELS:
        _reject(
            upload,
            f"The image is {image.width}x{image.height} ({image.width * image.height / 1e6:.0f} MP); "
            f"the limit is {settings.MAX_IMAGE_PIXELS / 1e6:.0f} MP.",
            "image_too_large",
        )
    try:
        check_complete(data, image.format)
    except engine.ImageError as exc:
        _reject(upload, str(exc), exc.code)
    del data
    now = timezone.now()
    updated = Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(
        status=Upload.Status.CONFIRMED,
        size=info.size,
        etag=info.etag[:128],
        content_type=image.mime,
        width=image.width,
        height=image.height,
        confirmed_at=now,
        updated_at=now,
    )
    upload.refresh_from_db()
    if not updated and upload.status != Upload.Status.CONFIRMED:
        raise ServiceError(f"This upload was rejected: {upload.rejection_reason}", "upload_rejected")
    return upload


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def download_url_for_key(user, key: str) -> str:
    """Authorised by database row, never by the shape of the key."""
    if not key or "\x00" in key:  # PostgreSQL text cannot hold NUL: no row can match
        raise NotFound("File")
    upload = _owned(Upload.objects, user).filter(key=key, status=Upload.Status.CONFIRMED).first()
    if upload is not None:
        return get_storage().download_url(key, filename=upload.original_name or PurePath(key).name)
    sketch = _owned(Sketch.objects, user).filter(result_key=key, status=Sketch.Status.COMPLETED).first()
    if sketch is not None:
        return get_storage().download_url(key, filename=result_filename(sketch))
    raise NotFound("File")


def sweep_stale_uploads(older_than: timedelta = timedelta(days=1)) -> int:
    """Unconfirmed uploads older than a day: delete the object (if any) and the row."""
    cutoff = timezone.now() - older_than
    stale = Upload.objects.filter(Q(status=Upload.Status.PENDING) | Q(status=Upload.Status.REJECTED), created_at__lt=cutoff)
    storage, count = get_storage(), 0
    for upload in stale.filter(sketches__isnull=True).iterator():
        try:
            storage.delete(upload.key)
        except StorageError:
            logger.warning("could not delete stale upload %s", upload.key, exc_info=True)
            continue
        upload.delete()
        count += 1
    return count


ORPHAN_PREFIXES = ("uploads/", "results/")


def sweep_orphan_objects(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete stored objects that no row points to, once they are older than ``older_than``.

    A result is stored a moment before its sketch row records it, and a failed delete leaves
    its object behind: the age keeps the first safe, the sweep cleans up the second.
    """
    cutoff = timezone.now() - older_than
    storage, count = get_storage(), 0
    for prefix in ORPHAN_PREFIXES:
        batch = []
        for item in storage.objects_under(prefix):
            if item.modified < cutoff:
                batch.append(item.key)
            if len(batch) == 500:
                count += _delete_unreferenced(storage, batch)
                batch = []
        count += _delete_unreferenced(storage, batch)
    return count


def _delete_unreferenced(storage, keys: list[str]) -> int:
    if not keys:
        return 0
    referenced = set(Upload.objects.filter(key__in=keys).values_list("key", flat=True))
    for field in ("result_key", "thumbnail_key"):
        referenced.update(Sketch.objects.filter(**{f"{field}__in": keys}).values_list(field, flat=True))
    count = 0
    for key in keys:
        if key in referenced:
            continue
        try:
            storage.delete(key)
        except StorageError:
            logger.warning("could not delete orphan object %s", key, exc_info=True)
            continue
        logger.info("deleted orphan object %s (no row points to it)", key)
        count += 1
    return count


# ----------------------------------------------------------------------------- sketches
def normalise_choice(value, valid: tuple[str, ...], what: str) -> str:
    choice = str(value or "").strip().lower()
    if choice not in valid:
        raise ServiceError(f"Unknown {what} {value!r}. Valid {what}s: {', '.join(valid)}.", f"invalid_{what}", field=what)
    return choice


def create_sketch(user, *, upload_id, style: str, method: str, options: dict | None = None, request_id: str = "") -> Sketch:
    style = normalise_choice(style, STYLE_IDS, "style")
    method = normalise_choice(method, METHOD_IDS, "method")
    upload = get_upload(user, upload_id)
    if upload.status != Upload.Status.CONFIRMED:
        raise ServiceError("Confirm the upload before creating a sketch from it.", "upload_not_confirmed")
    with transaction.atomic():
        # Lock the owner's row so concurrent creates cannot both pass the cap.
        _lock_owner(user)
        active = Sketch.objects.filter(owner=user, status__in=Sketch.ACTIVE).count()
        if active >= settings.MAX_CONCURRENT_TASKS:
            raise TooManyTasks(
                f"You already have {active} sketches in progress (the limit is {settings.MAX_CONCURRENT_TASKS}). "
                "Wait for one to finish.",
                "too_many_tasks",
            )
        _check_room(
            user, quota.result_allowance(upload.width, upload.height), f"A sketch of this {upload.width}x{upload.height} photo"
        )
        sketch = Sketch.objects.create(
            owner=user,
            upload=upload,
            style=style,
            method=method,
            options=options or {},
            task_id=uuid.uuid4().hex,
            request_id=request_id[:64],
        )
        lifecycle.submit(sketch)
    return sketch


def get_sketch(user, sketch_id) -> Sketch:
    sketch = _owned(Sketch.objects.select_related("upload"), user).filter(pk=sketch_id).first() if _is_uuid(sketch_id) else None
    if sketch is None:
        raise NotFound()
    return sketch


def get_sketch_by_task(user, task_id: str) -> Sketch:
    if "\x00" in str(task_id):
        raise NotFound("Task")
    sketch = _owned(Sketch.objects.select_related("upload"), user).filter(task_id=str(task_id)[:64]).first()
    if sketch is None:
        raise NotFound("Task")
    return sketch


def list_sketches(user, *, status: str | None = None, style: str | None = None, method: str | None = None):
    sketches = _owned(Sketch.objects.select_related("upload"), user)
    if status:
        sketches = sketches.filter(status=normalise_choice(status, tuple(Sketch.Status.values), "status"))
    if style:
        sketches = sketches.filter(style=normalise_choice(style, STYLE_IDS, "style"))
    if method:
        sketches = sketches.filter(method=normalise_choice(method, METHOD_IDS, "method"))
    return sketches.order_by("-created_at")


def delete_sketch(user, sketch_id) -> None:
    sketch = get_sketch(user, sketch_id)
    lifecycle.cancel(sketch, "Deleted.")
    storage = get_storage()
    with transaction.atomic():
        # Read the result key under the row lock: a job that completed between the lookup and
        # the cancel has saved its key by now, and one that has not will find no row to finish.
        locked = (
            Sketch.objects.select_for_update().filter(pk=sketch.pk).values("result_key", "thumbnail_key", "upload_id").first()
        )
        if locked is None:
            return  # deleted concurrently: the other request removes the files
        Sketch.objects.filter(pk=sketch.pk).delete()
        upload = Upload.objects.get(pk=locked["upload_id"])
        orphan = not Sketch.objects.filter(upload=upload).exists()
        if orphan:
            upload.delete()
    # Files go after the rows: a failed delete leaves an orphan object, never a row without its file.
    keys = [key for key in (locked["result_key"], locked["thumbnail_key"]) if key]
    if orphan:
        keys.append(upload.key)
    for key in keys:
        try:
            storage.delete(key)
        except StorageError:
            logger.warning("could not delete %s: it stays in storage as an orphan", key, exc_info=True)
