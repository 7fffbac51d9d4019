"""The upload and sketch API. Thin: every action is a service call."""

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from sketchsite.body_limits import accepts_body

from .. import quota, services, throttles
from ..engine.formats import mime_for_extension
from ..sharing import create_link, list_links, revoke_link
from ..storage import ObjectMissing, attachment_header, current_base_url, get_storage
from ..style_menu import styles_with_previews
from ..throttles import SketchCreateThrottle
from .serializers import (
    ConfirmRequestSerializer,
    ConfirmResponseSerializer,
    DownloadUrlSerializer,
    PresignRequestSerializer,
    PresignResponseSerializer,
    ShareCreateSerializer,
    ShareLinkSerializer,
    SketchCreateSerializer,
    SketchSerializer,
    StorageUsageSerializer,
    StylesResponseSerializer,
    TaskSerializer,
)


class ServiceView(APIView):
    def initial(self, request, *args, **kwargs):
        # Local upload and download URLs point back at the origin the client used (its Host was
        # validated against ALLOWED_HOSTS), not only at BASE_URL.
        current_base_url.set(request.build_absolute_uri("/"))
        super().initial(request, *args, **kwargs)


# ----------------------------------------------------------------------------- uploads
class PresignView(ServiceView):
    @extend_schema(
        request=PresignRequestSerializer,
        responses={
            201: PresignResponseSerializer,
            400: OpenApiResponse(description="`unsupported_type`, `empty_file` or `file_too_large`"),
            409: OpenApiResponse(
                description="`storage_quota_exceeded`: the declared size does not fit in your storage (USER_STORAGE_QUOTA); delete sketches first"
            ),
            429: OpenApiResponse(
                description="`too_many_pending_uploads`: too many uploads presigned but not confirmed (MAX_PENDING_UPLOADS); `Retry-After` says when the oldest form expires"
            ),
            503: OpenApiResponse(description="`storage_unavailable`"),
        },
        summary="Start an upload: get a presigned POST",
        description="Register an upload and get a presigned POST: send `fields` plus the file (last, in a field named `file`) as multipart/form-data to `url`, then confirm it. The form accepts at most the declared `size`, which counts against your storage until confirmed.",
    )
    def post(self, request):
        data = PresignRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload, presigned = services.create_upload(request.user, **data.validated_data)
        body = {
            "upload_id": upload.pk,
            "key": upload.key,
            "url": presigned.url,
            "fields": presigned.fields,
            "expires_in": presigned.expires_in,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ConfirmView(ServiceView):
    @extend_schema(
        request=ConfirmRequestSerializer,
        responses={
            200: ConfirmResponseSerializer,
            400: OpenApiResponse(
                description="`upload_missing` (not posted yet), `empty_file`, `file_too_large`, `unsupported_type`, `unsupported_image`, `corrupt_image`, `image_too_large`, `upload_rejected`"
            ),
            404: OpenApiResponse(description="`not_found`: no such upload of yours"),
            503: OpenApiResponse(description="`storage_unavailable`"),
        },
        summary="Confirm an upload",
        description="Checks what arrived in storage (size, the image type from its bytes, the pixel count). A rejected file is deleted.",
    )
    def post(self, request):
        data = ConfirmRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = services.confirm_upload(request.user, data.validated_data["upload_id"])
        return Response(ConfirmResponseSerializer(upload).data)


class DownloadUrlView(ServiceView):
    @extend_schema(
        responses={200: DownloadUrlSerializer, 404: OpenApiResponse(description="`not_found`: no such file of yours")},
        summary="A fresh download link for a file you own",
        description="`key` is an upload's key or a result's key, slashes included (`uploads/12/3f….jpg`). The link expires after `expires_in` seconds and serves the file as an attachment.",
    )
    def get(self, request, key):
        url = services.download_url_for_key(request.user, key)
        return Response({"url": url, "expires_in": get_storage().expires_in})


class StorageUsageView(ServiceView):
    @extend_schema(
        responses={200: StorageUsageSerializer},
        summary="Your storage: bytes used and the quota",
        description="`used` = `originals` (confirmed photos) + `pending` (declared sizes of uploads not confirmed yet) + `results` (drawings and thumbnails) + `reserved` (the most that queued and running sketches may still write). `quota` and `free` are null when there is no limit.",
    )
    def get(self, request):
        return Response(quota.usage(request.user).as_dict())


# ----------------------------------------------------------------------------- sketches
class SketchListView(ServiceView, generics.ListAPIView):
    serializer_class = SketchSerializer

    def get_queryset(self):
        params = self.request.query_params
        return services.list_sketches(
            self.request.user, status=params.get("status"), style=params.get("style"), method=params.get("method")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["queued", "processing", "completed", "failed", "cancelled"]),
            OpenApiParameter("style", str),
            OpenApiParameter("method", str),
        ],
        responses={
            200: SketchSerializer(many=True),
            400: OpenApiResponse(description="`invalid_status`, `invalid_style` or `invalid_method`: an unknown filter value"),
        },
        summary="Your sketches, newest first",
        description="Paginated (`page`, `page_size` up to 100). Admins see everyone's.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SketchCreateView(ServiceView):
    throttle_classes = [SketchCreateThrottle]

    def throttled(self, request, wait):
        raise throttles.throttled(wait)

    @extend_schema(
        request=SketchCreateSerializer,
        responses={
            202: SketchSerializer,
            400: OpenApiResponse(description="`invalid_style`, `invalid_method`, bad `options`, `upload_not_confirmed`"),
            404: OpenApiResponse(description="`not_found`: no such upload of yours"),
            409: OpenApiResponse(
                description="`storage_quota_exceeded`: the result could overflow your storage (USER_STORAGE_QUOTA); delete sketches first"
            ),
            429: OpenApiResponse(
                description="`too_many_tasks`: too many sketches queued or processing (MAX_CONCURRENT_TASKS); "
                "`too_many_sketches`: too many created in the period (THROTTLE_SKETCH_CREATE), with `Retry-After`"
            ),
        },
        summary="Create a sketch from a confirmed upload",
        description="Queues the job and answers at once (`202`, `status: queued`). Follow it over `WS /ws` or `GET /api/sketch/{id}`. The same upload may be drawn again in other styles.",
    )
    def post(self, request):
        data = SketchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sketch = services.create_sketch(request.user, request_id=getattr(request, "id", ""), **data.validated_data)
        # The sketch as accepted ("queued"), even if a fast worker has already claimed it: its
        # progress comes over /ws and GET /api/sketch/{id}.
        return Response(SketchSerializer(sketch).data, status=status.HTTP_202_ACCEPTED)


class SketchDetailView(ServiceView):
    @extend_schema(
        responses={200: SketchSerializer, 404: OpenApiResponse(description="`not_found`: no such sketch of yours")},
        summary="One sketch",
        description="`result_url` (a short-lived download link) is set once `status` is `completed`.",
    )
    def get(self, request, sketch_id):
        return Response(SketchSerializer(services.get_sketch(request.user, sketch_id)).data)

    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="`not_found`: no such sketch of yours")},
        summary="Delete a sketch",
        description="Cancels the job if it is still running and removes the result file (and the original, when no other sketch uses it).",
    )
    def delete(self, request, sketch_id):
        services.delete_sketch(request.user, sketch_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShareListView(ServiceView):
    @extend_schema(
        request=ShareCreateSerializer,
        responses={
            201: ShareLinkSerializer,
            400: OpenApiResponse(description="`invalid_choice`: `expires_in_days` is not 1, 7 or 30"),
            404: OpenApiResponse(description="`not_found`: no such sketch of yours"),
            409: OpenApiResponse(description="`sketch_not_completed`: only a completed sketch can be shared"),
        },
        summary="Share a sketch: create a public link",
        description="The answer's `url` holds the link's secret token and is shown this once; lists give only `token_prefix`. Anyone with the link sees this sketch (and the photo when `include_original`) until it expires or is revoked.",
    )
    def post(self, request, sketch_id):
        data = ShareCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = create_link(request.user, sketch_id, **data.validated_data)
        url = request.build_absolute_uri(reverse("share-page", args=[new.token]))
        body = ShareLinkSerializer(new.link, context={"urls": {new.link.pk: url}}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: ShareLinkSerializer(many=True), 404: OpenApiResponse(description="`not_found`: no such sketch of yours")},
        summary="The share links of a sketch, newest first",
        description="Active, expired and revoked ones (see `state`); `url` is null: the token is not stored.",
    )
    def get(self, request, sketch_id):
        return Response(ShareLinkSerializer(list_links(request.user, sketch_id), many=True).data)


class ShareDetailView(ServiceView):
    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="`not_found`: no such sketch or link of yours")},
        summary="Revoke a share link",
        description="The link answers 410 from then on. Revoking a revoked link is not an error.",
    )
    def delete(self, request, sketch_id, link_id):
        revoke_link(request.user, sketch_id, link_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskView(ServiceView):
    @extend_schema(
        responses={200: TaskSerializer, 404: OpenApiResponse(description="`not_found`: no such task of yours")},
        summary="A sketch's job by its task id",
    )
    def get(self, request, task_id):
        return Response(TaskSerializer(services.get_sketch_by_task(request.user, task_id)).data)


class StylesView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={200: StylesResponseSerializer},
        summary="The styles and methods",
        description="No login needed. Each style has a sample image (`preview_url`).",
    )
    def get(self, request):
        return Response(styles_with_previews(request))


# ----------------------------------------------------------------------------- local storage endpoints
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the policy fields around the file


@accepts_body(lambda: settings.MAX_FILE_SIZE + FORM_OVERHEAD)  # the server refuses bigger bodies unread
@csrf_exempt  # authorised by the signed policy in the form, like an S3 presigned POST
@require_POST
def local_upload(request):
    """The embedded default's stand-in for S3's presigned POST."""
    # The file goes to a temporary file as it is parsed, whatever its size, never whole into memory.
    request.upload_handlers = [TemporaryFileUploadHandler(request)]
    storage = get_storage()
    if storage.name != "local":
        return _s3_style_error(404, "NotFound", "Uploads go straight to S3 on this server.")
    # Refuse a body that cannot fit before Django spools it to disk (the form's fields are small).
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.MAX_FILE_SIZE + FORM_OVERHEAD:
        return _s3_style_error(400, "EntityTooLarge", "The file's size is outside the allowed range.")
    try:
        policy = storage.verify_upload_policy(request.POST)
    except PermissionError as exc:
        return _s3_style_error(403, "AccessDenied", str(exc))
    try:
        # 409, not 403: the form is genuine, but the upload it was made for takes no more files.
        services.check_upload_open(policy["key"])
    except services.ServiceError as exc:
        return _s3_style_error(exc.status, "UploadClosed", exc.message)
    upload = request.FILES.get("file")
    if upload is None:
        return _s3_style_error(400, "InvalidArgument", "The form must carry the file in a field named 'file'.")
    if upload.size < 1 or upload.size > policy["max_size"]:
        return _s3_style_error(
            400, "EntityTooLarge" if upload.size else "EntityTooSmall", "The file's size is outside the allowed range."
        )
    try:
        storage.write_stream(policy["key"], upload.chunks(), policy["max_size"], exclusive=True)
    except ValueError:
        return _s3_style_error(400, "EntityTooLarge", "The file's size is outside the allowed range.")
    except FileExistsError:  # a concurrent post with the same form stored its file first
        return _s3_style_error(
            409, "UploadClosed", services.UPLOAD_CLOSED_MESSAGE.format(why=": a file was already sent with it")
        )
    return HttpResponse(status=204)


def _s3_style_error(status_code: int, code: str, message: str) -> HttpResponse:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return HttpResponse(body, status=status_code, content_type="application/xml")


@require_GET
def local_download(request, key):
    storage = get_storage()
    if storage.name != "local":
        return _s3_style_error(404, "NotFound", "Files are served by S3 on this server.")
    try:
        filename = storage.verify_download(key, request.GET.get("token", ""))
        handle = storage.open(key)
    except PermissionError as exc:
        return _s3_style_error(403, "AccessDenied", str(exc))
    except ObjectMissing:
        return _s3_style_error(404, "NoSuchKey", "The file does not exist.")
    response = FileResponse(handle, content_type=_content_type_for(key))
    response["Content-Disposition"] = attachment_header(filename)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _content_type_for(key: str) -> str:
    return mime_for_extension(key.rsplit(".", 1)[-1]) or "application/octet-stream"
