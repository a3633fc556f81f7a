"""Domain exceptions. Raised by repositories and services, mapped to HTTP once in videogen.api.resolver."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of errors a user can be told about; ``message`` is safe to show."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """Missing, or owned by someone else (both answer the same, so ids leak nothing)."""


class StaleVersion(DomainError):
    """An optimistic-locking write named a version that is no longer current."""

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message, {"currentVersion": current_version} if current_version else None)
        self.current_version = current_version


class Conflict(DomainError):
    """The request conflicts with current state (e.g. no active key for the provider)."""


class IdempotencyKeyReused(Conflict):
    """An ``Idempotency-Key`` already used for a different request (answers 409); ``details``
    name what the first request made, e.g. its job."""

    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__(
            "Idempotency-Key was already used with a different request: send a new key for a new request",
            details,
        )


class QuotaExceeded(DomainError):
    """A per-user cap would be exceeded."""


class InvalidInput(DomainError):
    """Input that breaks a rule (answers 400); ``details`` are field errors (``field_errors``)."""


def field_errors(field: str, message: str, type_: str) -> list[dict[str, str]]:
    """A 400's details: ``[{field, message, type}]``, the field named by where it is in the
    request (``body.sceneId``, ``query.cursor``, ``header.if-match``); never the value itself."""
    return [{"field": field, "message": message, "type": type_}]


class ServiceUnavailable(Exception):
    """A dependency (database, queue, KMS, S3) is out of reach: answer 503, retry later."""
