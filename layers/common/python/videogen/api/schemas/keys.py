"""Request and response models of the API key routes: a key goes in once, sealed, and only its
last four characters ever come back."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, SecretStr

from videogen.api.schemas.storyboards import RequestModel, RowModel, WireModel
from videogen.catalog import Provider


class ApiKeyPut(RequestModel):
    """The provider API key to store. It is sealed at once and never answered, logged or queued."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"apiKey": "sk-example-0000000000000000abcd"}]})

    # The document states keys.validate_api_key's rule: printable ASCII, no whitespace.
    api_key: SecretStr = Field(min_length=8, max_length=512, json_schema_extra={"pattern": "^[!-~]*$"})


class ApiKeySummary(RowModel):
    """A stored key, known by its last four characters only."""

    provider: Provider
    is_active: bool
    last4: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyList(WireModel):
    keys: list[ApiKeySummary]


class ApiKeyDeleted(WireModel):
    success: bool = True
    provider: Provider
    is_active: bool = False
