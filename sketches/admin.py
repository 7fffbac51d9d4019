"""The admin for uploads and sketches: look, filter, search by owner, and act on jobs.

Every action goes through ``sketches.services`` so that the database, the queue and the owner's
live page stay in step (the same calls the API and the reconciler use).
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from . import lifecycle, payloads, services
from .engine.catalog import METHODS, STYLES
from .models import Sketch, Upload
from .storage import StorageError, get_storage


def status_pill(value: str, label: str):
    return format_html('<span class="sk-pill sk-{}">{}</span>', value, label)


def human_size(size) -> str:
    if not size:
        return "—"
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"


def image_link(key: str, filename: str, alt: str, height: int = 48):
    """A thumbnail from a short-lived download URL (the same presigned GET the API hands out)."""
    if not key:
        return "—"
    try:
        url = get_storage().download_url(key, filename=filename)
    except StorageError:
        return "storage unavailable"
    size = "large" if height > 100 else "small"
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img class="sk-thumb sk-thumb-{}" src="{}" alt="{}" loading="lazy"></a>',
        url,
        size,
        url,
        alt,
    )


# ----------------------------------------------------------------------------- uploads
@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "name",
        "owner_email",
        "content_type",
        "size_display",
        "dimensions",
        "status_display",
        "sketch_count",
        "created_at",
    ]
    list_display_links = ["name"]
    list_filter = ["status", "content_type", "created_at"]
    search_fields = ["owner__email", "original_name", "key"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_per_page = 50
    readonly_fields = [
        "preview_large",
        "id",
        "owner",
        "key",
        "original_name",
        "content_type",
        "size",
        "etag",
        "width",
        "height",
        "status",
        "rejection_reason",
        "created_at",
        "updated_at",
        "confirmed_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # view only: uploads change through the API and the sweeper

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_sketches=Count("sketches"))

    @admin.display(description="Photo")
    def preview(self, upload):
        if upload.status != Upload.Status.CONFIRMED:
            return "—"
        return image_link(upload.key, upload.original_name or "photo", f"Photo {upload.original_name}")

    @admin.display(description="Photo")
    def preview_large(self, upload):
        if upload.status != Upload.Status.CONFIRMED:
            return "—"
        return image_link(upload.key, upload.original_name or "photo", f"Photo {upload.original_name}", height=240)

    @admin.display(description="Name", ordering="original_name")
    def name(self, upload):
        return upload.original_name or upload.key.rsplit("/", 1)[-1]

    @admin.display(description="Owner", ordering="owner__email")
    def owner_email(self, upload):
        return upload.owner.email

    @admin.display(description="Size", ordering="size")
    def size_display(self, upload):
        return human_size(upload.size)

    @admin.display(description="Pixels")
    def dimensions(self, upload):
        return f"{upload.width}×{upload.height}" if upload.width else "—"

    @admin.display(description="Status", ordering="status")
    def status_display(self, upload):
        return status_pill(upload.status, upload.get_status_display())

    @admin.display(description="Sketches", ordering="_sketches")
    def sketch_count(self, upload):
        url = reverse("admin:sketches_sketch_changelist") + "?" + urlencode({"upload__id__exact": upload.pk})
        return format_html('<a href="{}">{}</a>', url, upload._sketches)


# ----------------------------------------------------------------------------- sketches
class FailReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The owner sees this on their page, so write it for them.",
        initial="Stopped by an administrator.",
    )


def catalog_filter(field: str, entries):
    """A list filter offering every style (or method) of the catalog, not only those in use."""

    class CatalogFilter(admin.SimpleListFilter):
        title = field
        parameter_name = field

        def lookups(self, request, model_admin):
            return [(entry.id, entry.name) for entry in entries]

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    return CatalogFilter


class ActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("running", "Running (queued or processing)"),
            ("finished", "Finished"),
            ("stuck", f"Silent for over {settings.SKETCH_STALE_AFTER} s"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "running":
            return queryset.filter(status__in=Sketch.ACTIVE)
        if self.value() == "finished":
            return queryset.filter(status__in=Sketch.TERMINAL)
        if self.value() == "stuck":
            cutoff = timezone.now() - timedelta(seconds=settings.SKETCH_STALE_AFTER)
            return queryset.filter(status__in=Sketch.ACTIVE, updated_at__lt=cutoff)
        return queryset


@admin.register(Sketch)
class SketchAdmin(admin.ModelAdmin):
    change_list_template = "admin/sketches/sketch/change_list.html"
    list_display = [
        "thumbnail",
        "short_id",
        "owner_email",
        "style",
        "method",
        "status_display",
        "progress_display",
        "attempts",
        "created_at",
        "duration",
    ]
    list_display_links = ["short_id"]
    list_filter = ["status", ActiveFilter, catalog_filter("style", STYLES), catalog_filter("method", METHODS), "created_at"]
    search_fields = ["owner__email", "=id", "=task_id", "upload__original_name"]
    list_select_related = ["owner", "upload"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_per_page = 50
    actions = ["retry_selected", "cancel_selected", "fail_selected"]
    fieldsets = [
        (None, {"fields": ["result_preview", "id", "owner", "upload_link", "style", "method", "options"]}),
        ("Job", {"fields": ["status", "progress", "stage", "error", "task_id", "attempts", "request_id"]}),
        ("Result", {"fields": ["result_key", "result_width", "result_height", "result_size"]}),
        ("Times", {"fields": ["created_at", "updated_at", "started_at", "finished_at"]}),
    ]
    readonly_fields = [
        "result_preview",
        "id",
        "owner",
        "upload_link",
        "style",
        "method",
        "options",
        "status",
        "progress",
        "stage",
        "error",
        "task_id",
        "attempts",
        "request_id",
        "result_key",
        "result_width",
        "result_height",
        "result_size",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
    ]

    def has_add_permission(self, request):
        return False  # sketches are made from uploads, by their owners

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **queue_links()}
        return super().changelist_view(request, extra_context)

    # --------------------------------------------------------------- columns
    @admin.display(description="Result")
    def thumbnail(self, sketch):
        if sketch.status != Sketch.Status.COMPLETED:
            return "—"
        return image_link(sketch.thumbnail_key or sketch.result_key, payloads.result_filename(sketch), f"{sketch.style} sketch")

    @admin.display(description="Result")
    def result_preview(self, sketch):
        if sketch.status != Sketch.Status.COMPLETED:
            return "—"
        return image_link(sketch.result_key, payloads.result_filename(sketch), f"{sketch.style} sketch", height=260)

    @admin.display(description="Sketch", ordering="created_at")
    def short_id(self, sketch):
        return str(sketch.pk)[:8]

    @admin.display(description="Owner", ordering="owner__email")
    def owner_email(self, sketch):
        return sketch.owner.email

    @admin.display(description="Upload")
    def upload_link(self, sketch):
        url = reverse("admin:sketches_upload_change", args=[sketch.upload_id])
        return format_html('<a href="{}">{}</a>', url, sketch.upload.original_name or sketch.upload.key)

    @admin.display(description="Status", ordering="status")
    def status_display(self, sketch):
        pill = status_pill(sketch.status, sketch.get_status_display())
        if sketch.error and sketch.status in (Sketch.Status.FAILED, Sketch.Status.CANCELLED):
            return format_html('{}<br><small class="sk-error">{}</small>', pill, sketch.error[:120])
        return pill

    @admin.display(description="Progress", ordering="progress")
    def progress_display(self, sketch):
        if sketch.status in Sketch.ACTIVE:
            return f"{sketch.progress}% {sketch.stage}".strip()
        return "—" if sketch.status != Sketch.Status.COMPLETED else "100%"

    @admin.display(description="Took")
    def duration(self, sketch):
        if sketch.started_at and sketch.finished_at:
            return f"{(sketch.finished_at - sketch.started_at).total_seconds():.1f} s"
        return "—"

    # --------------------------------------------------------------- deleting goes through the service (files too)
    def delete_model(self, request, obj):
        services.delete_sketch(request.user, obj.pk)

    def delete_queryset(self, request, queryset):
        for sketch_id in queryset.values_list("pk", flat=True):
            services.delete_sketch(request.user, sketch_id)

    # --------------------------------------------------------------- actions
    @admin.action(description="Retry selected failed or cancelled sketches")
    def retry_selected(self, request, queryset):
        done = sum(
            lifecycle.retry(sketch) for sketch in queryset.filter(status__in=[Sketch.Status.FAILED, Sketch.Status.CANCELLED])
        )
        self._report(request, done, queryset.count(), "queued again", "were not failed or cancelled")

    @admin.action(description="Cancel selected running sketches")
    def cancel_selected(self, request, queryset):
        done = sum(
            lifecycle.cancel(sketch, "Cancelled by an administrator.") for sketch in queryset.filter(status__in=Sketch.ACTIVE)
        )
        self._report(request, done, queryset.count(), "cancelled", "were not queued or processing")

    @admin.action(description="Mark selected running sketches as failed…")
    def fail_selected(self, request, queryset):
        running = queryset.filter(status__in=Sketch.ACTIVE)
        if request.POST.get("apply"):
            form = FailReasonForm(request.POST)
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                done = sum(lifecycle.fail(sketch.pk, Sketch.FailureCode.FAILED_BY_ADMIN, reason) for sketch in running)
                self._report(request, done, queryset.count(), "marked as failed", "were not queued or processing")
                return None
        else:
            form = FailReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Mark sketches as failed",
            "opts": self.model._meta,
            "form": form,
            "queryset": queryset,
            "running": running.select_related("owner"),
            "skipped": queryset.count() - running.count(),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "fail_selected",
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/sketches/sketch/fail_reason.html", context)

    def _report(self, request, done: int, selected: int, verb: str, why_skipped: str) -> None:
        noun = "sketch" if done == 1 else "sketches"
        text = f"{done} {noun} {verb}."
        skipped = selected - done
        if skipped:
            text += f" {skipped} skipped: they {why_skipped}."
        self.message_user(request, text, messages.SUCCESS if done else messages.WARNING)


def queue_links() -> dict:
    """Where the admin looks at the queue: django-rq's dashboard, or with the in-process
    worker (no Redis) the running sketches themselves."""
    changelist = reverse("admin:sketches_sketch_changelist")
    links = {
        "running_url": f"{changelist}?state=running",
        "stuck_url": f"{changelist}?state=stuck",
        "failed_url": f"{changelist}?status__exact=failed",
        "inprocess_worker": settings.USE_INPROCESS_WORKER,
        "running_count": Sketch.objects.filter(status__in=Sketch.ACTIVE).count(),
        "failed_count": Sketch.objects.filter(status=Sketch.Status.FAILED).count(),
    }
    if not settings.USE_INPROCESS_WORKER:
        links["queue_url"] = reverse("admin:django_rq_dashboard_changelist")
    return links


admin.site.site_header = f"{settings.APP_NAME} admin"
admin.site.site_title = f"{settings.APP_NAME} admin"
admin.site.index_title = "Users and jobs"
admin.site.enable_nav_sidebar = False  # the lists are wide: give them the room
