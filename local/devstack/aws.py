"""Moto for the local stack: SQS, S3, KMS and Secrets Manager on loopback, with the template's resources.

It holds the template's queues (with their redrive policy), buckets and KMS keys.

``python -m devstack.aws --template template.yaml --state-dir .local/aws`` serves moto on a
free loopback port, creates those resources and prints one ready line with the endpoint and
what ``!Ref``/``!GetAtt`` of each resource gives locally (queue URL and ARN, bucket name, key
ARN).

Moto keeps everything in memory. So that a restarted stack finds what it left:

- each KMS key keeps its id and key material (``kms.json``, mode 0600): API keys stored
  earlier stay decryptable;
- S3 objects are written under ``s3/<bucket logical id>/`` on shutdown and uploaded again on
  start: earlier videos stay downloadable.

Queue messages are not kept; the generation sweeper re-polls or fails jobs left behind.

An outage for fault tests (``python -m devstack.control aws down <seconds>``): SIGUSR1 stops
serving (the port refuses new connections and open ones are cut), SIGUSR2 serves again on the
same port with everything kept, as AWS coming back would. ``--visibility-timeout`` replaces
every queue's visibility timeout (the ``VISIBILITY_TIMEOUT_SECONDS`` knob).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import mimetypes
import queue as queues
import shutil
import signal
import socket
import sys
import threading
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any, Literal

import boto3
from werkzeug.serving import ThreadedWSGIServer

from devstack.intrinsics import ACCOUNT_ID, REGION
from devstack.logs import configure_logging, ready_line, stop_requested
from devstack.template import Template, load

logger = logging.getLogger("devstack.aws")
BUCKET_PREFIX = "videogen-local-"


def bucket_name(logical_id: str) -> str:
    """The local bucket of a template bucket (S3 names are lower case)."""
    return BUCKET_PREFIX + logical_id.lower()


class LocalAws:
    """The template's AWS resources in a moto server at ``endpoint``; state kept in ``state_dir``."""

    def __init__(
        self, endpoint: str, template: Template, state_dir: Path, visibility_timeout: int | None = None
    ) -> None:
        self.endpoint = endpoint
        self.template = template
        self.state_dir = state_dir
        self.visibility_timeout = visibility_timeout
        self.refs: dict[str, str] = {}
        self.attributes: list[tuple[str, str, str]] = []

    def client(self, service: Literal["sqs", "s3", "kms"]) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def create_all(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._queues()
        self._buckets()
        self._kms_keys()

    # --- SQS ----------------------------------------------------------------------------------

    def _queues(self) -> None:
        sqs = self.client("sqs")
        arns: dict[str, str] = {}
        # Dead-letter targets first: a redrive policy names an existing queue.
        ordered = sorted(self.template.queues.values(), key=lambda q: q.dead_letter_target is not None)
        for queue in ordered:
            attributes = {
                "VisibilityTimeout": str(self.visibility_timeout or queue.visibility_timeout),
                "MessageRetentionPeriod": str(queue.message_retention_period),
                "DelaySeconds": str(queue.delay_seconds),
            }
            if queue.dead_letter_target is not None and queue.max_receive_count:
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": arns[queue.dead_letter_target],
                        "maxReceiveCount": queue.max_receive_count,
                    }
                )
            url = sqs.create_queue(QueueName=queue.logical_id, Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            arns[queue.logical_id] = arn
            self.refs[queue.logical_id] = url
            self.attributes += [
                (queue.logical_id, "Arn", arn),
                (queue.logical_id, "QueueUrl", url),
                (queue.logical_id, "QueueName", queue.logical_id),
            ]

    # --- S3 -----------------------------------------------------------------------------------

    def _buckets(self) -> None:
        s3 = self.client("s3")
        for logical_id in self.template.buckets:
            name = bucket_name(logical_id)
            s3.create_bucket(Bucket=name)
            self.refs[logical_id] = name
            self.attributes += [
                (logical_id, "Arn", f"arn:aws:s3:::{name}"),
                (logical_id, "DomainName", f"{name}.s3.amazonaws.com"),
            ]
            restored = self._restore_objects(s3, logical_id, name)
            if restored:
                logger.info("restored %d objects into s3://%s", restored, name)

    def _objects_dir(self, logical_id: str) -> Path:
        return self.state_dir / "s3" / logical_id

    def _restore_objects(self, s3: Any, logical_id: str, name: str) -> int:
        root = self._objects_dir(logical_id)
        if not root.is_dir():
            return 0
        count = 0
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            key = path.relative_to(root).as_posix()
            content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
            s3.put_object(Bucket=name, Key=key, Body=path.read_bytes(), ContentType=content_type)
            count += 1
        return count

    def save_objects(self) -> int:
        """Write every object of every bucket under ``s3/`` (what a restart uploads again)."""
        s3 = self.client("s3")
        count = 0
        for logical_id in self.template.buckets:
            final = self._objects_dir(logical_id)
            # A fresh copy replaces the old one: an object deleted since is not restored again.
            root = final.with_name(final.name + ".new")
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket_name(logical_id))
            for page in pages:
                for item in page.get("Contents", []):
                    key = PurePosixPath(item["Key"])
                    if key.is_absolute() or ".." in key.parts:
                        continue
                    target = root.joinpath(*key.parts)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    body = s3.get_object(Bucket=bucket_name(logical_id), Key=item["Key"])["Body"].read()
                    target.write_bytes(body)
                    count += 1
            shutil.rmtree(final, ignore_errors=True)
            root.rename(final)
        return count

    # --- KMS ----------------------------------------------------------------------------------

    def _kms_keys(self) -> None:
        kms = self.client("kms")
        saved_path = self.state_dir / "kms.json"
        saved: dict[str, dict[str, str]] = json.loads(saved_path.read_text()) if saved_path.exists() else {}
        for logical_id in self.template.kms_keys:
            created = kms.create_key(Description=f"local {logical_id}")["KeyMetadata"]["KeyId"]
            if logical_id in saved:
                key_id = _adopt_key(created, saved[logical_id]["id"], saved[logical_id]["material"])
            else:
                key_id = created
                saved[logical_id] = {"id": key_id, "material": _key_material(key_id)}
            arn = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"
            self.refs[logical_id] = key_id
            self.attributes += [(logical_id, "Arn", arn), (logical_id, "KeyId", key_id)]
        saved_path.write_text(json.dumps(saved, indent=2) + "\n")
        saved_path.chmod(0o600)


def _kms_backend() -> Any:
    from moto.kms.models import kms_backends  # noqa: PLC0415 (moto's in-process state)

    return kms_backends[ACCOUNT_ID][REGION]


def _key_material(key_id: str) -> str:
    return base64.b64encode(_kms_backend().keys[key_id].key_material).decode()


def _adopt_key(created_id: str, key_id: str, material: str) -> str:
    """Give the key moto just created the id and material of the one a previous run created.

    Moto draws both at random and has no API to import them; its ciphertexts name the key id
    and are sealed with the material, so both must survive for stored data keys to decrypt.
    """
    backend = _kms_backend()
    key = backend.keys.pop(created_id)
    key.id = key_id
    key.arn = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"
    key.key_material = base64.b64decode(material)
    backend.keys[key_id] = key
    return key_id


class _CuttableServer(ThreadedWSGIServer):
    """moto's WSGI server, remembering its open connections so that going down can cut them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def cut(self) -> None:
        """Stop serving, release the port, and reset every open connection."""
        self.shutdown()
        self.server_close()
        with self._lock:
            open_now = list(self._open)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class MotoService:
    """moto on one loopback port; ``down()`` and ``up()`` keep its state (moto's backends live
    in this process), so an outage ends with everything where it was."""

    def __init__(self, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (  # noqa: PLC0415 (a second or so to import)
            DomainDispatcherApplication,
            create_backend_app,
        )

        self.port = port
        self._app = DomainDispatcherApplication(create_backend_app)
        self._server: _CuttableServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        if self._server is not None:
            return
        from moto.moto_server.werkzeug_app import MotoRequestHandler  # noqa: PLC0415

        server = _CuttableServer("127.0.0.1", self.port, self._app, handler=MotoRequestHandler)
        self.port = int(server.server_address[1])
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        self._server = server

    def down(self) -> None:
        if self._server is not None:
            self._server.cut()
            self._server = None


def _outage_signals(commands: queues.Queue[str]) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        commands.put("down" if signum == signal.SIGUSR1 else "up")

    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGUSR2, on_signal)


def main(argv: list[str] | None = None) -> int:
    """Serve moto with the template's resources until SIGTERM or SIGINT; then save S3 objects."""
    parser = argparse.ArgumentParser(prog="python -m devstack.aws", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--visibility-timeout", type=int, default=None, help="seconds, for every queue")
    args = parser.parse_args(argv)
    configure_logging()

    stopped = stop_requested()
    commands: queues.Queue[str] = queues.Queue()
    _outage_signals(commands)
    service = MotoService(args.port)
    service.up()
    local = LocalAws(service.endpoint, load(args.template), args.state_dir, args.visibility_timeout)
    local.create_all()
    ready_line({"endpoint": local.endpoint, "refs": local.refs, "attributes": local.attributes})
    while not stopped.is_set():
        with contextlib.suppress(queues.Empty):
            command = commands.get(timeout=0.2)
            (service.down if command == "down" else service.up)()
            logger.warning("moto is %s", "down: connections refused" if command == "down" else "back up")
    service.up()  # the objects are saved through it
    saved = local.save_objects()
    logger.info("saved %d S3 objects under %s", saved, args.state_dir / "s3")
    return 0


if __name__ == "__main__":
    sys.exit(main())
