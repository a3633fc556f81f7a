"""Settings of every function, read once from the environment (pydantic-settings).

Every environment variable a function reads is a field here, and template.yaml sets
only these names. Nothing else in videogen reads ``os.environ``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All settings; field ``foo_bar`` is environment variable ``FOO_BAR``."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    # Database: DATABASE_URL (local, tests) > DB_HOST + IAM token (RDS Proxy) > DB_SECRET_ARN.
    database_url: SecretStr | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "videogen"
    db_user: str = "videogen_app"
    db_secret_arn: str | None = None
    # TLS to RDS Proxy (DB_HOST): "require"; "verify-full" with the RDS CA bundle; tests on a
    # local server without TLS set "disable".
    db_sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = "require"
    # At most this long to connect (libpq's connect_timeout) and to wait for a pooled connection;
    # capped by dependency_deadline_seconds below.
    db_connect_timeout_seconds: int = 5
    # Under RDS Proxy's IdleClientTimeout (template: 1800 s) and the IAM token's 15 min life.
    db_pool_recycle_seconds: int = 600
    # Ping a pooled connection before use only after it sat idle this long (frozen container).
    db_ping_after_idle_seconds: float = 5.0

    # The function's own Timeout (template.yaml sets FUNCTION_TIMEOUT_SECONDS beside each Timeout,
    # and a test keeps the two equal): every call that leaves the function has a deadline derived
    # from it, so a hung dependency is answered (503, or a retry for the workers) in time.
    function_timeout_seconds: int = Field(default=15, ge=3, le=900)
    # Sent with every 503 a dependency's outage causes: when to try again.
    retry_after_seconds: int = Field(default=5, ge=1, le=120)

    aws_region: str = "us-east-1"
    # Powertools reads its own POWERTOOLS_* variables; the namespace also has a default here
    # so metrics never fail for want of one.
    powertools_metrics_namespace: str = "Videogen"

    # Queue, storage and key encryption.
    generation_queue_url: str | None = None
    storage_cleanup_queue_url: str | None = None
    videos_bucket: str | None = None
    presign_expiry_seconds: int = Field(default=900, ge=60, le=43200)
    api_keys_kms_key_id: str | None = None
    # Keyed HMAC of provider API keys: the secret comes from Secrets Manager when deployed,
    # from API_KEY_HMAC_SECRET in the local stack and tests.
    api_key_hmac_secret_arn: str | None = None
    api_key_hmac_secret: SecretStr | None = None

    # HTTP limits and per-user quotas.
    max_body_bytes: int = 256 * 1024
    max_jobs_in_flight_per_user: int = 5
    max_daily_spend_per_user_usd: Decimal = Decimal("50.00")

    # Providers. The fixed hosts' base URLs are settings so that tests and the local stack reach
    # fakes (LIVE_PROVIDERS=1 in the local stack leaves them at the real services).
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    vertex_base_url: str = "https://aiplatform.googleapis.com/"
    fal_queue_base_url: str = "https://queue.fal.run"
    # fal's Platform API: its pricing read is how a fal key is checked when saved.
    fal_platform_base_url: str = "https://api.fal.ai/v1"
    # The base URL an OpenAI-compatible key gets when saved without one (an operator's gateway;
    # the local stack's fake). Unset when deployed: then every such key names its own.
    openai_default_base_url: str | None = None
    # Hosts (names or CIDR networks, comma-separated) an OpenAI-compatible base URL may name
    # although they resolve to a private address: an operator's own gateway in the VPC. Every
    # other private, loopback, link-local, CGNAT or reserved address is refused.
    provider_endpoint_allowlist: str = ""
    # Plain http to an allowlisted host: the local stack's fakes only, never deployed.
    allow_http_provider_endpoints: bool = False
    provider_timeout_seconds: float = 30.0

    # Reference images and music (videogen.references): per upload (an image; music), per
    # storyboard, per user (stored bytes, or declared while pending), and how long an upload may
    # stay uncompleted before it is swept.
    reference_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    reference_music_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    references_per_storyboard: int = Field(default=12, ge=1, le=100)
    reference_storage_cap_bytes: int = Field(default=500 * 1024 * 1024, ge=1024 * 1024)
    reference_pending_seconds: int = Field(default=86400, ge=60)

    # Push completion (videogen.webhooks). The public origin providers call back (the API's own
    # domain or CloudFront's); unset, no create asks for a webhook and polls alone follow a job.
    webhook_base_url: str | None = None
    # The server secret the callback URLs' tokens are an HMAC under: from Secrets Manager when
    # deployed (WEBHOOK_SIGNING_SECRET_ARN), WEBHOOK_SIGNING_SECRET in the local stack and tests.
    webhook_signing_secret_arn: str | None = None
    webhook_signing_secret: SecretStr | None = None
    # Where each provider publishes the keys its webhooks are signed with (the local stack points
    # them at its fakes, so that only it trusts the fakes' keys).
    gemini_jwks_url: str = "https://generativelanguage.googleapis.com/.well-known/jwks.json"
    fal_jwks_url: str = "https://rest.fal.ai/.well-known/jwks.json"
    # How long fetched keys are trusted before they are fetched again (fal: at most 24 hours).
    webhook_keys_max_age_seconds: int = Field(default=3600, ge=60, le=86400)
    # OpenAI-compatible endpoints push to a URL registered once per key, signed with the whsec_
    # secret the endpoint issued for it: kept in Secrets Manager under this name prefix, one
    # secret per key (videogen.webhooks.endpoint_secrets). Unset: keys take no webhook secret.
    openai_webhook_secrets_prefix: str | None = None

    # Records of one generation worker batch run at once (threads sharing the container's one
    # database connection): the event source's BatchSize, so a batch's downloads overlap.
    worker_record_concurrency: int = Field(default=5, ge=1, le=10)
    # Generation worker pacing.
    poll_initial_delay_seconds: int = 10
    poll_max_delay_seconds: int = 60
    generation_max_wait_seconds: int = 3600
    # A job marked "submitting" longer than this had its worker die mid-call.
    submit_stale_after_seconds: int = 300
    # Creates the provider refused (429/5xx) before the job fails as "provider stayed busy".
    submit_max_attempts: int = Field(default=5, ge=1)
    # A job still "pending" this long lost its submit message: the sweeper sends it again.
    pending_stale_after_seconds: int = 600
    # Jobs the sweeper looks at per kind (overdue, stale submitting/processing/pending) per run,
    # and storage cleanups it re-sends.
    sweep_batch_size: int = Field(default=100, ge=1, le=1000)
    # A storage cleanup still recorded this long after its last send lost its message (or the
    # message gave up): the sweeper sends it again.
    cleanup_stale_after_seconds: int = Field(default=300, ge=1)

    # Film pipeline (videogen.films): its queue, and how long a step may run or sit.
    film_queue_url: str | None = None
    # A claimed plan/assemble older than this was abandoned (its worker died): longer than the
    # film compiler's Lambda timeout. A film untouched this long has lost a message: re-sent.
    film_step_lease_seconds: int = Field(default=960, ge=1)
    # An active film older than this fails (a 200-clip film needs well under an hour).
    film_max_wait_seconds: int = Field(default=7200, ge=60)

    @property
    def dependency_deadline_seconds(self) -> float:
        """How long one call to a dependency (a statement, a connect, an AWS request) may take:
        under a third of the function's Timeout, so that a connect, a statement and the answer
        all fit in it, and never more than 10 s."""
        return min(10.0, max(1.0, self.function_timeout_seconds * 0.3))

    @property
    def db_connect_deadline_seconds(self) -> int:
        """libpq's connect_timeout (whole seconds, at least 2 as libpq requires)."""
        return max(2, min(self.db_connect_timeout_seconds, int(self.dependency_deadline_seconds)))

    @property
    def provider_deadline_seconds(self) -> float:
        """One provider call's timeout (``provider_timeout_seconds`` at most): its SDK's three
        attempts take under half the function's Timeout."""
        return min(self.provider_timeout_seconds, self.function_timeout_seconds * 0.15)

    @property
    def aws_timeout_seconds(self) -> float:
        """botocore's connect and read timeouts: half a dependency deadline each."""
        return min(5.0, self.dependency_deadline_seconds / 2)

    @property
    def aws_attempts(self) -> int:
        """botocore's attempts per AWS call (at most 3): as many as fit, each waiting its whole
        connect and read timeouts, in six tenths of the function's Timeout."""
        attempt = 2 * self.aws_timeout_seconds
        return max(1, min(3, int(self.function_timeout_seconds * 0.6 // attempt)))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
