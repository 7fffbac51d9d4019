"""The admin for uploads and sketches: look, filter, search by owner, and act on jobs.

Every action goes through ``sketches.services`` so that the database, the queue and the owner's
live page stay in step (the same calls the API and the reconciler use).
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from . import lifecycle, payloads, services, sharing
from .engine.catalog import METHODS, STYLES
from .models import ShareLink, Sketch, Upload
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


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows the service makes and changes, never a form: uploads through the API and the sweeper,
    sketches through their owners and the job actions, share links only by revoking. View only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# ----------------------------------------------------------------------------- uploads
@admin.register(Upload)
class UploadAdmin(ViewOnlyAdmin):
    # No picture in the list: the only stored image of an upload is the full-size original.
    list_display = [
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

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_sketches=Count("sketches"))

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


# ----------------------------------------------------------------------------- share links
SHARE_STATES = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}
SHARE_PILLS = {"active": "completed", "expired": "cancelled", "revoked": "failed"}  # reuse the status colours


def share_state_pill(link: ShareLink):
    return status_pill(SHARE_PILLS[link.state], SHARE_STATES[link.state])


class ShareStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(SHARE_STATES.items())

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class ShareLinkInline(admin.TabularInline):
    model = ShareLink
    fk_name = "sketch"
    extra = 0
    can_delete = False
    show_change_link = True  # revoking happens on the share link's own list
    fields = ["token_prefix", "state_display", "include_original", "created_at", "expires_at", "view_count"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # links are made by owners, who alone see the token

    @admin.display(description="State")
    def state_display(self, link):
        return share_state_pill(link)


@admin.register(ShareLink)
class ShareLinkAdmin(ViewOnlyAdmin):
    list_display = [
        "prefix",
        "sketch_link",
        "owner_email",
        "state_display",
        "include_original",
        "created_at",
        "expires_at",
        "view_count",
        "last_viewed_at",
    ]
    list_display_links = ["prefix"]
    list_filter = [ShareStateFilter, "include_original", "created_at"]
    search_fields = ["created_by__email", "=sketch__id", "token_prefix"]
    list_select_related = ["sketch", "created_by"]
    ordering = ["-created_at"]
    actions = ["revoke_selected"]
    fields = [
        "id",
        "prefix",
        "sketch_link",
        "owner_email",
        "state_display",
        "include_original",
        "created_at",
        "expires_at",
        "revoked_at",
        "view_count",
        "last_viewed_at",
    ]
    readonly_fields = fields

    @admin.display(description="Token", ordering="token_prefix")
    def prefix(self, link):
        return f"{link.token_prefix}…"

    @admin.display(description="Sketch")
    def sketch_link(self, link):
        url = reverse("admin:sketches_sketch_change", args=[link.sketch_id])
        return format_html('<a href="{}">{} / {}</a>', url, link.sketch.style, link.sketch.method)

    @admin.display(description="Owner", ordering="created_by__email")
    def owner_email(self, link):
        return link.created_by.email

    @admin.display(description="State")
    def state_display(self, link):
        return share_state_pill(link)

    @admin.action(description="Revoke selected share links", permissions=["view"])
    def revoke_selected(self, request, queryset):
        selected = queryset.count()  # before the change: revoked ones then count as skipped
        done = sharing.revoke(queryset)
        text = f"{done} share link{'' if done == 1 else 's'} revoked."
        if selected - done:
            text += f" {selected - done} skipped: they were revoked already."
        self.message_user(request, text, messages.SUCCESS if done else messages.WARNING)


@admin.register(Sketch)
class SketchAdmin(ViewOnlyAdmin):
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
    inlines = [ShareLinkInline]

    def get_inlines(self, request, obj):
        # an empty table of links is a scrollable region with nothing to focus on a phone
        return self.inlines if obj is not None and obj.share_links.exists() else []

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

    def get_urls(self):
        job = self.admin_site.admin_view(self.job_view)
        return [path("<uuid:object_id>/job/<str:action>/", job, name="sketches_sketch_job"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        sketch = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "fail_form": FailReasonForm(), "job_sketch": sketch}
        return super().change_view(request, object_id, form_url, extra_context)

    @method_decorator(require_POST)
    def job_view(self, request, object_id, action):
        """Retry, Cancel or Mark failed for one sketch, from its page."""
        sketch = self.get_object(request, str(object_id))
        if sketch is None or not self.has_view_permission(request, sketch):
            raise Http404("No such sketch.")
        back = reverse("admin:sketches_sketch_change", args=[sketch.pk])
        if action == "retry":
            done, verb = lifecycle.retry(sketch), "queued again"
        elif action == "cancel":
            done, verb = lifecycle.cancel(sketch, "Cancelled by an administrator."), "cancelled"
        elif action == "fail":
            form = FailReasonForm(request.POST)
            if not form.is_valid():
                self.message_user(request, "Write the reason the owner will see.", messages.ERROR)
                return HttpResponseRedirect(back)
            done, verb = (
                lifecycle.fail(sketch.pk, Sketch.FailureCode.FAILED_BY_ADMIN, form.cleaned_data["reason"]),
                "marked as failed",
            )
        else:
            raise Http404("No such action.")
        if done:
            self.message_user(request, f"The sketch was {verb}.", messages.SUCCESS)
        else:
            sketch.refresh_from_db()
            self.message_user(
                request, f"Nothing done: the sketch is {sketch.get_status_display().lower()} now.", messages.WARNING
            )
        return HttpResponseRedirect(back)

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
        selected = queryset.count()  # before the change: a status filter would no longer match them
        done = sum(
            lifecycle.retry(sketch) for sketch in queryset.filter(status__in=[Sketch.Status.FAILED, Sketch.Status.CANCELLED])
        )
        self._report(request, done, selected, "queued again", "were not failed or cancelled")

    @admin.action(description="Cancel selected running sketches")
    def cancel_selected(self, request, queryset):
        selected = queryset.count()
        done = sum(
            lifecycle.cancel(sketch, "Cancelled by an administrator.") for sketch in queryset.filter(status__in=Sketch.ACTIVE)
        )
        self._report(request, done, selected, "cancelled", "were not queued or processing")

    @admin.action(description="Mark selected running sketches as failed…")
    def fail_selected(self, request, queryset):
        running = queryset.filter(status__in=Sketch.ACTIVE)
        selected = queryset.count()
        if request.POST.get("apply"):
            form = FailReasonForm(request.POST)
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                done = sum(lifecycle.fail(sketch.pk, Sketch.FailureCode.FAILED_BY_ADMIN, reason) for sketch in running)
                self._report(request, done, selected, "marked as failed", "were not queued or processing")
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
