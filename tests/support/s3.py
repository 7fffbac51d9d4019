"""The app's own S3 storage on an existing SeaweedFS bucket, configured as settings.STORAGES does."""

from sketches.storage import S3Storage


def seaweed_storage(seaweed, bucket: str, expires_in: int = 300) -> S3Storage:
    from storages.backends.s3 import S3Storage as Backend

    backend = Backend(
        bucket_name=bucket,
        access_key=seaweed.access_key,
        secret_key=seaweed.secret_key,
        region_name="us-east-1",
        endpoint_url=seaweed.endpoint,
        signature_version="s3v4",
        addressing_style="path",
        default_acl=None,
    )
    return S3Storage(backend, expires_in)
