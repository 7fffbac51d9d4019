from rest_framework import serializers

from ..models import ShareLink, Sketch, Upload
from ..payloads import result_url, sketch_payload, thumbnail_url
from ..sharing import EXPIRY_DAYS


class SketchSerializer(serializers.ModelSerializer):
    """Declares the fields for the schema; the values come from ``payloads.sketch_payload``,
    the same dict the WebSocket sends."""

    upload_id = serializers.UUIDField(read_only=True)
    error_code = serializers.ChoiceField(
        source="failure_code",
        choices=Sketch.FailureCode.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why it failed, for programs (empty unless failed); `error` says it for people.",
    )
    result_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Sketch
        fields = [
            "id",
            "task_id",
            "upload_id",
            "style",
            "method",
            "options",
            "status",
            "progress",
            "stage",
            "error",
            "error_code",
            "attempts",
            "result_url",
            "thumbnail_url",
            "result_size",
            "result_width",
            "result_height",
            "created_at",
            "updated_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        return sketch_payload(instance)

    def get_result_url(self, sketch) -> str | None:
        return result_url(sketch)

    def get_thumbnail_url(self, sketch) -> str | None:
        """A small JPEG of the result (longer side 480 px) for lists; null until completed."""
        return thumbnail_url(sketch)


class PresignRequestSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    content_type = serializers.CharField(max_length=100)
    size = serializers.IntegerField(min_value=1, max_value=2**53)


class PresignResponseSerializer(serializers.Serializer):
    upload_id = serializers.UUIDField()
    key = serializers.CharField()
    url = serializers.URLField()
    fields = serializers.DictField(child=serializers.CharField())
    expires_in = serializers.IntegerField()


class StorageUsageSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    quota = serializers.IntegerField(allow_null=True)
    free = serializers.IntegerField(allow_null=True)
    originals = serializers.IntegerField()
    pending = serializers.IntegerField()
    results = serializers.IntegerField()
    reserved = serializers.IntegerField()


class ConfirmRequestSerializer(serializers.Serializer):
    upload_id = serializers.UUIDField()


class ConfirmResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Upload
        fields = ["id", "key", "content_type", "size", "width", "height", "status"]
        read_only_fields = fields


class DownloadUrlSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_in = serializers.IntegerField()


class SketchOptionsSerializer(serializers.Serializer):
    strength = serializers.FloatField(min_value=0, max_value=1, required=False, default=0.5)
    detail = serializers.FloatField(min_value=0, max_value=1, required=False, default=0.5)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)
    format = serializers.ChoiceField(choices=["png", "jpeg", "webp"], required=False, default="png")
    quality = serializers.IntegerField(min_value=1, max_value=100, required=False, default=90)

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("format"), str):
            data = {**data, "format": data["format"].strip().lower().replace("jpg", "jpeg")}
        unknown = set(data) - set(self.fields) if isinstance(data, dict) else set()
        if unknown:
            raise serializers.ValidationError(
                f"Unknown option(s): {', '.join(sorted(unknown))}. Known: {', '.join(self.fields)}."
            )
        return super().to_internal_value(data)


class SketchCreateSerializer(serializers.Serializer):
    upload_id = serializers.UUIDField()
    style = serializers.CharField(max_length=40)
    method = serializers.CharField(max_length=40, required=False, default="basic")
    options = SketchOptionsSerializer(required=False, default=dict)


class TaskSerializer(serializers.ModelSerializer):
    sketch_id = serializers.UUIDField(source="id", read_only=True)
    result_url = serializers.SerializerMethodField()

    class Meta:
        model = Sketch
        fields = [
            "task_id",
            "sketch_id",
            "status",
            "progress",
            "stage",
            "error",
            "attempts",
            "result_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_result_url(self, sketch) -> str | None:
        return result_url(sketch)


class StyleSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    preview_url = serializers.CharField()


class MethodSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class StylesResponseSerializer(serializers.Serializer):
    styles = StyleSerializer(many=True)
    methods = MethodSerializer(many=True)


class ShareCreateSerializer(serializers.Serializer):
    expires_in_days = serializers.ChoiceField(
        choices=EXPIRY_DAYS,
        error_messages={
            "invalid_choice": f"Choose {', '.join(map(str, EXPIRY_DAYS[:-1]))} or {EXPIRY_DAYS[-1]} days (got {{input}})."
        },
    )
    include_original = serializers.BooleanField(required=False, default=False)


class ShareLinkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"], read_only=True)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "url",
            "token_prefix",
            "state",
            "include_original",
            "expires_at",
            "revoked_at",
            "created_at",
            "view_count",
            "last_viewed_at",
        ]
        read_only_fields = fields

    def get_url(self, link) -> str | None:
        """The full link, only in the answer that creates it: the server keeps no copy of the token."""
        return self.context.get("urls", {}).get(link.pk)
