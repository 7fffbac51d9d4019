"""Where originals and results live: S3 (presigned POST/GET) or local media with signed URLs.

Both backends answer the same calls with the same request shapes, so the pages and API
clients never know which one runs: the browser POSTs a multipart form with ``fields`` + file
to ``url``, and downloads from a URL that expires.
"""

import contextvars
import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core import signing
from django.core.files.storage import storages

logger = logging.getLogger(__name__)

# The origin of the request being served, so local URLs point where the client came from.
current_base_url: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_base_url", default=None)

UPLOAD_POLICY_SALT = "sketches.storage.upload-policy"
DOWNLOAD_SALT = "sketches.storage.download"


class StorageError(Exception):
    """The storage service failed (network, server down): worth a retry."""


class ObjectMissing(StorageError):
    """The object is not there (never uploaded, or deleted)."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    content_type: str


@dataclass(frozen=True)
class StoredObject:
    key: str
    modified: datetime


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    fields: dict
    expires_in: int


def attachment_header(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


class LocalStorage:
    """Files under MEDIA_ROOT; uploads and downloads through signed, expiring Django URLs."""

    name = "local"

    def __init__(self, root: Path, expires_in: int):
        self.root = Path(root)
        self.expires_in = expires_in

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ObjectMissing(f"Invalid key {key!r}")
        return path

    @staticmethod
    def _base_url() -> str:
        return (current_base_url.get() or settings.BASE_URL).rstrip("/")

    def presign_upload(self, key: str, content_type: str, max_size: int) -> PresignedUpload:
        policy = signing.dumps({"key": key, "content_type": content_type, "max_size": max_size}, salt=UPLOAD_POLICY_SALT)
        fields = {"key": key, "Content-Type": content_type, "policy": policy}
        return PresignedUpload(f"{self._base_url()}/api/upload/local", fields, self.expires_in)

    def verify_upload_policy(self, fields: dict) -> dict:
        """The policy must be ours, unexpired, and agree with the key and type posted beside it."""
        try:
            policy = signing.loads(fields.get("policy", ""), salt=UPLOAD_POLICY_SALT, max_age=self.expires_in)
        except signing.SignatureExpired:
            raise PermissionError("The upload form has expired; ask for a new one.") from None
        except signing.BadSignature:
            raise PermissionError("The upload form's policy is not valid.") from None
        if fields.get("key") != policy["key"]:
            raise PermissionError("The key does not match the signed policy.")
        if fields.get("Content-Type") != policy["content_type"]:
            raise PermissionError("The Content-Type does not match the signed policy.")
        return policy

    def head(self, key: str) -> ObjectInfo:
        """Size and ETag. The ETag is the MD5 of the content, as S3's for a single-part upload:
        the same bytes written again keep it, other bytes of the same size do not."""
        try:
            with open(self._path(key), "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                etag = hashlib.file_digest(handle, "md5").hexdigest()
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        return ObjectInfo(size=size, etag=etag, content_type="")

    def read(self, key: str, length: int | None = None) -> bytes:
        try:
            with open(self._path(key), "rb") as handle:
                return handle.read() if length is None else handle.read(length)
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def write(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # readers never see half a file

    def write_stream(self, key: str, chunks, max_size: int, *, exclusive: bool = False) -> int:
        """Store an upload's chunks; refuse (and leave nothing) past ``max_size``.

        ``exclusive``: raise ``FileExistsError`` (and leave the stored file as it is) if the key
        already holds a file, checked atomically when the file is put in place.
        """
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        size = 0
        try:
            with open(temporary, "wb") as handle:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise ValueError("too large")
                    handle.write(chunk)
            if exclusive:
                os.link(temporary, path)  # fails if the path exists, unlike a rename
            else:
                os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return size

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except ObjectMissing:
            pass

    def objects_under(self, prefix: str) -> Iterator[StoredObject]:
        """Every stored object whose key starts with ``prefix`` (a folder such as ``uploads/``)."""
        base = self.root / prefix
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            try:
                if path.is_file():
                    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    yield StoredObject(path.relative_to(self.root).as_posix(), modified)
            except FileNotFoundError:  # removed while we walked
                continue

    def download_url(self, key: str, filename: str) -> str:
        token = signing.dumps({"key": key, "filename": filename}, salt=DOWNLOAD_SALT, compress=True)
        return f"{self._base_url()}/files/{quote(key)}?{urlencode({'token': token})}"

    def verify_download(self, key: str, token: str) -> str:
        """Returns the file name to serve under, or raises PermissionError."""
        try:
            data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=self.expires_in)
        except signing.BadSignature:
            raise PermissionError("This download link is invalid or has expired.") from None
        if data.get("key") != key:
            raise PermissionError("This download link is invalid or has expired.")
        return data.get("filename") or Path(key).name

    def open(self, key: str):
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def check(self) -> dict:
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / f".health-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
        usage = shutil.disk_usage(self.root)
        return {"backend": self.name, "free_gb": round(usage.free / 2**30, 1)}


class S3Storage:
    """An S3 bucket (or an S3-compatible server) through django-storages' boto3 client."""

    name = "s3"

    def __init__(self, backend, expires_in: int):
        self.backend = backend
        self.bucket = backend.bucket_name
        self.expires_in = expires_in
        self._session = None
        self._client = None
        self._client_pid = None
        self._client_lock = threading.Lock()

    @property
    def client(self):
        """One boto3 client per process, shared by its threads (boto3 clients are thread-safe).

        django-storages keeps a session and client per *thread*, and the ASGI server runs each
        request in a new thread: that rebuilt both for 0.2-0.8 s of CPU on every request. A
        forked RQ work horse makes its own client (sockets must not cross a fork) from the
        session it inherited, whose service model is already loaded: ~20 ms instead of ~700.
        """
        pid = os.getpid()
        if self._client is None or self._client_pid != pid:
            with self._client_lock:
                if self._client is None or self._client_pid != pid:
                    self._client = self._make_client()
                    self._client_pid = pid
        return self._client

    def _make_client(self):
        backend = self.backend
        if self._session is None:
            self._session = self._make_session()
        return self._session.client(
            "s3",
            region_name=backend.region_name,
            use_ssl=backend.use_ssl,
            endpoint_url=backend.endpoint_url,
            config=backend.client_config,
            verify=backend.verify,
        )

    def _make_session(self):
        """A boto3 session from the backend's settings, the way django-storages makes its own."""
        import boto3

        backend = self.backend
        if backend.session_profile:
            return boto3.Session(profile_name=backend.session_profile)
        return boto3.Session(
            aws_access_key_id=backend.access_key,
            aws_secret_access_key=backend.secret_key,
            aws_session_token=backend.security_token,
        )

    def warm_up(self) -> None:
        """Load boto3's S3 model now, e.g. in a worker before it forks its work horses."""
        self.client  # noqa: B018

    def _call(self, operation, **params):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(params.get("Key", "")) from None
            raise StorageError(f"S3 {operation} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {operation} failed: {exc}") from exc

    def presign_upload(self, key: str, content_type: str, max_size: int) -> PresignedUpload:
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_size]],
            ExpiresIn=self.expires_in,
        )
        return PresignedUpload(post["url"], post["fields"], self.expires_in)

    def head(self, key: str) -> ObjectInfo:
        meta = self._call("head_object", Key=key)
        return ObjectInfo(
            size=meta["ContentLength"], etag=meta.get("ETag", "").strip('"'), content_type=meta.get("ContentType", "")
        )

    def read(self, key: str, length: int | None = None) -> bytes:
        params = {"Key": key}
        if length is not None:
            params["Range"] = f"bytes=0-{length - 1}"
        body = self._call("get_object", **params)["Body"]
        try:
            return body.read()
        except Exception as exc:
            raise StorageError(f"S3 read of {key} failed: {exc}") from exc
        finally:
            body.close()

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._call("put_object", Key=key, Body=data, ContentType=content_type)

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=key)

    def objects_under(self, prefix: str) -> Iterator[StoredObject]:
        """Every stored object whose key starts with ``prefix``, a page of 1,000 at a time."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"], item["LastModified"])
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 list of {prefix} failed: {exc}") from exc

    def download_url(self, key: str, filename: str) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": attachment_header(filename)},
            ExpiresIn=self.expires_in,
        )

    def check(self) -> dict:
        self._call("head_bucket")
        return {"backend": self.name, "bucket": self.bucket}

    def ensure_bucket(self, allowed_origins: list[str]) -> None:
        """Create the bucket if needed and let the browser POST to it from our origins."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)
        origins = allowed_origins or ["*"]
        for attempt in range(10):
            try:
                self.client.put_bucket_cors(
                    Bucket=self.bucket,
                    CORSConfiguration={
                        "CORSRules": [
                            {
                                "AllowedOrigins": origins,
                                "AllowedMethods": ["GET", "POST", "HEAD"],
                                "AllowedHeaders": ["*"],
                                "ExposeHeaders": ["ETag"],
                                "MaxAgeSeconds": 3600,
                            }
                        ]
                    },
                )
                return
            except ClientError:
                if attempt == 9:
                    raise
                time.sleep(0.5)


@lru_cache(maxsize=1)
def get_storage():
    if settings.USE_S3:
        return S3Storage(storages["default"], settings.AWS_PRESIGNED_URL_EXPIRATION)
    return LocalStorage(settings.MEDIA_ROOT, settings.AWS_PRESIGNED_URL_EXPIRATION)
