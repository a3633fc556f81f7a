"""Request and response models of the API key routes: a key goes in once, sealed, and only its
last four characters ever come back."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, SecretStr, computed_field

from videogen.api.schemas.storyboards import RequestModel, RowModel, WireModel
from videogen.catalog import GoogleApi, Provider


class ApiKeyPut(RequestModel):
    """The provider API key to store. It is sealed at once and never answered, logged or queued."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"apiKey": "AIzaSyExample0000000000000000000000abcd", "api": "gemini"},
                {"apiKey": "sk-example-0000000000000000abcd", "baseUrl": "https://gateway.example.com/v1"},
                {
                    "apiKey": "sk-example-0000000000000000abcd",
                    "baseUrl": "https://gateway.example.com/v1",
                    "webhookSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                },
            ]
        }
    )

    # The document states keys.validate_api_key's rule: printable ASCII, no whitespace.
    api_key: SecretStr = Field(min_length=8, max_length=512, json_schema_extra={"pattern": "^[!-~]*$"})
    api: GoogleApi | None = Field(
        default=None,
        description="veo keys only: the Google API the key is for (default gemini, a Google AI "
        "Studio key; vertex for a Vertex AI express mode key).",
    )
    base_url: str | None = Field(
        default=None,
        min_length=9,
        max_length=2048,
        description="openai keys only: the https base URL of the OpenAI-compatible endpoint "
        "(e.g. https://gateway.example.com/v1). It must resolve to a public address.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        min_length=10,
        max_length=512,
        description="openai keys only: the `whsec_...` signing secret the endpoint shows for the "
        "webhook registered at this key's `webhookUrl` (Standard Webhooks). With it, the "
        "endpoint's `video.completed` / `video.failed` events finish jobs at once; without it (or "
        "left out when the key is saved again) polls alone follow them. Kept in Secrets Manager, "
        "never answered, logged or queued.",
    )


class ApiKeySummary(RowModel):
    """A stored key, known by its last four characters only, with where it is used and whether
    the provider accepted it when it was saved."""

    provider: Provider
    is_active: bool
    last4: str
    created_at: datetime
    last_used_at: datetime | None
    api: GoogleApi | None = Field(description="veo keys: the Google API the key is for")
    base_url: str | None = Field(description="openai keys: the endpoint")
    verified_at: datetime | None = Field(
        description="when the provider accepted the key at save time; null: saved unverified (the "
        "provider could not be reached, or offers no way to check a key)"
    )

    webhook_secret_at: datetime | None = Field(
        default=None,
        description="openai keys: when the webhook signing secret was saved; null: none, polls "
        "alone follow the endpoint's jobs",
    )
    webhook_url: str | None = Field(
        default=None,
        description="openai keys, where webhooks are on: the URL to register at the endpoint for "
        "`video.completed` and `video.failed` (it names this key, with a token bound to it); then "
        "save the key again with the endpoint's `webhookSecret`",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verified(self) -> bool:
        """Whether the provider accepted the key when it was saved."""
        return self.verified_at is not None


class ApiKeyList(WireModel):
    keys: list[ApiKeySummary]


class ApiKeyDeleted(WireModel):
    success: bool = True
    provider: Provider
    is_active: bool = False
