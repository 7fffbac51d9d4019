import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Upload(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    key = models.CharField(max_length=255, unique=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes, as stored (declared until confirmed).")
    etag = models.CharField(max_length=128, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rejection_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self):
        return self.original_name or self.key


class Sketch(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class FailureCode(models.TextChoices):
        """Why a sketch failed, for metrics and clients; ``error`` holds the words for people."""

        TIMEOUT = "timeout", "Timed out"
        BAD_IMAGE = "bad_image", "Bad image"
        MISSING_ORIGINAL = "missing_original", "Original missing"
        CHANGED_ORIGINAL = "changed_original", "Original changed"
        ENGINE_CRASHED = "engine_crashed", "Engine crashed"
        OUT_OF_MEMORY = "out_of_memory", "Out of memory"
        STORAGE = "storage", "Storage unavailable"
        DATABASE = "database", "Database unavailable"
        LOST = "lost", "Worker lost"
        FAILED_BY_ADMIN = "failed_by_admin", "Failed by an administrator"
        INTERNAL = "internal", "Internal error"

    ACTIVE = (Status.QUEUED, Status.PROCESSING)
    TERMINAL = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sketches")
    upload = models.ForeignKey(Upload, on_delete=models.PROTECT, related_name="sketches")
    style = models.CharField(max_length=20)
    method = models.CharField(max_length=20)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=20, blank=True)
    error = models.CharField(max_length=500, blank=True)
    failure_code = models.CharField(max_length=20, choices=FailureCode.choices, blank=True)
    task_id = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    result_key = models.CharField(max_length=255, blank=True)
    result_size = models.PositiveBigIntegerField(null=True, blank=True)
    result_width = models.PositiveIntegerField(null=True, blank=True)
    result_height = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_key = models.CharField(max_length=255, blank=True, help_text="A small JPEG of the result, for lists.")
    thumbnail_size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes of the thumbnail, for the quota.")
    request_id = models.CharField(max_length=64, blank=True, help_text="The web request that created it, for the logs.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "sketches"
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["owner", "style", "-created_at"]),
            models.Index(
                fields=["status", "updated_at"], name="sketch_active_idx", condition=Q(status__in=["queued", "processing"])
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="sketch_progress_0_100"),
        ]

    def __str__(self):
        return f"{self.style}/{self.method} ({self.status})"


class ShareLink(models.Model):
    """A public, expiring link to one sketch. Only a hash of its token is kept (see sharing.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sketch = models.ForeignKey(Sketch, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the token, hex.")
    token_prefix = models.CharField(max_length=8, editable=False, help_text="The token's first characters, to tell links apart.")
    include_original = models.BooleanField(default=False, help_text="The page also shows the photo, with a before/after slider.")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sketch", "-created_at"]), models.Index(fields=["created_by", "-created_at"])]

    def __str__(self):
        return f"{self.token_prefix}… ({self.state})"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "active"
