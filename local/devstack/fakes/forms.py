"""A request body as form fields: multipart/form-data (its files kept as bytes, with the content
type each part declares), urlencoded, or a JSON object (its values as strings)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from devstack.fakes.loopback import Request


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part: its bytes, the content type its part declared ("" if none), its file name."""

    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class Form:
    """The text fields and the file parts of a body, by field name."""

    fields: dict[str, str]
    files: dict[str, Upload]


def parse(request: Request) -> Form:
    """The form ``request`` carries."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return Form({name: str(value) for name, value in request.json().items()}, {})
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        return Form(dict(parse_qsl(request.body.decode())), {})
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in request.body.split(b"--" + boundary[1].encode()):
        head, sep, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'[;\s]name="([^"]*)"', head)
        if not sep or name is None:
            continue
        value = value.removesuffix(b"\r\n")
        filename = re.search(rb'filename="([^"]*)"', head)
        if filename is None:
            fields[name[1].decode()] = value.decode()
            continue
        declared = re.search(rb"(?im)^content-type:\s*([^\r\n;]+)", head)
        kind = declared[1].decode().strip().lower() if declared else ""
        files[name[1].decode()] = Upload(value, kind, filename[1].decode())
    return Form(fields, files)
