"""Where evidence files live: behind one small interface, so a single server keeps them in a local
folder (the default: instance/evidence, outside the web root and never served as static files) and a
cluster in an S3-compatible store. Keys are random, never the uploader's file name, so a name can
neither collide, nor climb out of the folder, nor tell anyone what a file holds."""
import re
import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app

KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")


def new_key() -> str:
    """A random key; the first two characters name a sub-folder so no folder grows to millions of files."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}"


class Storage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY.match(key):  # only our own keys: nothing can reach outside the folder
            raise ValueError("not a storage key")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.chmod(0o600)
        temporary.replace(path)  # a reader never sees half a file

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """An S3-compatible store (MinIO, Aliyun OSS, Tencent COS) through boto3, configured by
    HOTLINE_STORAGE_S3_BUCKET, _ENDPOINT, _ACCESS_KEY and _SECRET_KEY. boto3 is not a dependency of the
    default install (`pip install boto3` where this backend is used); this backend has no test here."""

    def __init__(self, bucket: str, endpoint: str | None, access_key: str | None, secret_key: str | None):
        if not bucket:
            raise RuntimeError("HOTLINE_STORAGE_S3_BUCKET must be set for HOTLINE_STORAGE_BACKEND=s3")
        try:
            import boto3
        except ImportError:
            raise RuntimeError("HOTLINE_STORAGE_BACKEND=s3 needs boto3: pip install boto3") from None
        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                                   aws_secret_access_key=secret_key)

    def save(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


def storage() -> Storage:
    """The configured store, made once per app."""
    found = current_app.extensions.get("hotline_storage")
    if found is None:
        config = current_app.config
        if config.get("STORAGE_BACKEND", "local") == "s3":
            found = S3Storage(config.get("STORAGE_S3_BUCKET"), config.get("STORAGE_S3_ENDPOINT"),
                              config.get("STORAGE_S3_ACCESS_KEY"), config.get("STORAGE_S3_SECRET_KEY"))
        else:
            found = LocalStorage(config.get("STORAGE_DIR") or Path(current_app.instance_path) / "evidence")
        current_app.extensions["hotline_storage"] = found
    return found
