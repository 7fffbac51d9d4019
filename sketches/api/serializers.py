from rest_framework import serializers

from ..models import Sketch, Upload


class SketchSerializer(serializers.ModelSerializer):
    upload_id = serializers.UUIDField(read_only=True)
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

    def get_result_url(self, sketch) -> str | None:
        if sketch.status != Sketch.Status.COMPLETED or not sketch.result_key:
            return None
        from ..services import result_filename
        from ..storage import get_storage

        # e.g. "beach-pencil-advanced.jpg": the photo's name, the look, the real extension
        return get_storage().download_url(sketch.result_key, filename=result_filename(sketch))

    def get_thumbnail_url(self, sketch) -> str | None:
        """A small JPEG of the result (longer side 480 px) for lists; null until completed."""
        if sketch.status != Sketch.Status.COMPLETED or not sketch.thumbnail_key:
            return None
        from ..storage import get_storage

        return get_storage().download_url(sketch.thumbnail_key, filename=f"{sketch.style}-{sketch.method}-thumbnail.jpg")


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
        return SketchSerializer().get_result_url(sketch)


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
