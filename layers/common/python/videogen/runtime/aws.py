"""AWS clients and secrets: one botocore configuration, the region from settings, boto3 on first use.

boto3 (and Powertools' parameters) are imported on first use, not at import: they would add
~0.2 s to every API cold start. The endpoint follows boto3's own resolution, so
``AWS_ENDPOINT_URL`` (the local stack's moto server) applies to every client, presigned URLs
included. Callers cache their client (``lru_cache``) and drop it in their ``reset_clients``.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, overload

from videogen.runtime.config import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

SECRET_MAX_AGE_SECONDS = 24 * 3600
"""Secrets are read once per container in practice: a Lambda container lives a few hours at most."""
_client_lock = threading.Lock()  # boto3's default session is not thread-safe while making clients


class SecretUnavailable(RuntimeError):
    """Secrets Manager could not be reached, refused the read, or the secret is not what was
    expected. The message names the failure, never the secret's value."""


@overload
def client(service: Literal["kms"], **config: Any) -> KMSClient: ...
@overload
def client(service: Literal["rds"], **config: Any) -> RDSClient: ...
@overload
def client(service: Literal["s3"], **config: Any) -> S3Client: ...
@overload
def client(service: Literal["secretsmanager"], **config: Any) -> SecretsManagerClient: ...
@overload
def client(service: Literal["sqs"], **config: Any) -> SQSClient: ...
def client(service: str, **config: Any) -> Any:
    """A new boto3 client for ``service`` in the configured region, its timeouts and attempts
    derived from the function's Timeout (``Settings.aws_timeout_seconds``, ``aws_attempts``:
    a frozen endpoint is given up in time to answer), standard retry mode. ``config`` overrides or
    adds botocore ``Config`` options (e.g. ``read_timeout=60``, ``signature_version="s3v4"``)."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    settings = get_settings()
    options: dict[str, Any] = {
        "connect_timeout": settings.aws_timeout_seconds,
        "read_timeout": settings.aws_timeout_seconds,
        "retries": {"mode": "standard", "max_attempts": settings.aws_attempts},
    }
    region = get_settings().aws_region
    # The overloads above give callers the typed client; boto3's own stubs want a literal name.
    with _client_lock:  # the worker's record threads may make their first clients together
        return boto3.client(service, region_name=region, config=Config(**options | config))  # type: ignore[call-overload]


@lru_cache(maxsize=1)
def _secrets() -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415

    return SecretsProvider(boto3_client=client("secretsmanager"))


def reset_secrets() -> None:
    """Forget fetched secrets and the Secrets Manager client (tests, settings changes)."""
    _secrets.cache_clear()


def read_secret(arn: str) -> str | bytes:
    """The secret at ``arn``: its ``SecretString`` (str) or else its ``SecretBinary`` (bytes).

    Fetched once per container and then served from Powertools' cache. Raises
    ``SecretUnavailable`` when Secrets Manager cannot be reached or refuses the read.
    """
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError  # noqa: PLC0415

    try:
        value = _secrets().get(arn, max_age=SECRET_MAX_AGE_SECONDS)
    except GetParameterError as exc:
        raise SecretUnavailable(f"could not read the secret: {exc}") from exc
    if not isinstance(value, str | bytes):
        raise SecretUnavailable("the secret has neither a string nor a binary value")
    return value


def read_json_secret(arn: str) -> dict[str, Any]:
    """The secret at ``arn`` parsed as a JSON object (``username``, ``password``, ...), as
    :func:`read_secret` fetches it. ``SecretUnavailable`` when it is not a JSON object."""
    try:
        value = json.loads(read_secret(arn))
    except ValueError:
        raise SecretUnavailable("the secret is not JSON") from None
    if not isinstance(value, dict):
        raise SecretUnavailable("the secret is not a JSON object")
    return value
