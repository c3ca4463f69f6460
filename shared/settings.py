"""Settings, read from ``AUTOFIN_*`` environment variables.

Development (the default) runs every flow with nothing configured: secrets that are not set
are generated once and kept under the data directory. Production refuses to start with a
placeholder or generated secret.
"""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_STRIPE_KEY = "sk_test_autofin_development"  # noqa: S105 (a known placeholder)
PLACEHOLDER_WEBHOOK_SECRET = "whsec_autofin_development"  # noqa: S105
PLACEHOLDERS = frozenset(
    {"", "changeme", "secret", PLACEHOLDER_STRIPE_KEY, PLACEHOLDER_WEBHOOK_SECRET}
)
DEV_SECRETS_FILE = "dev-secrets.json"


class InsecureSettings(ValueError):
    """Raised when production settings carry a placeholder or generated secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOFIN_", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str | None = None
    data_dir: Path = Path(".autofin")

    secret_key: str | None = Field(default=None, repr=False)
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)

    stripe_api_key: str = Field(default=PLACEHOLDER_STRIPE_KEY, repr=False)
    stripe_api_base: str = "https://api.stripe.com"
    stripe_webhook_secret: str = Field(default=PLACEHOLDER_WEBHOOK_SECRET, repr=False)

    preapproval_valid_days: int = Field(default=45, ge=1, le=365)
    bureau_latency_ms: int = Field(default=0, ge=0)
    bureau_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    log_level: str = "INFO"

    # Uploaded documents and signed contracts (default ``<data_dir>/documents``), the largest
    # upload accepted, and the lender's decision clock in working hours (Asia/Shanghai).
    documents_dir: Path | None = None
    max_document_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    decision_sla_working_hours: int = Field(default=2, ge=1, le=72)

    # Load (see ``shared/web/admission.py`` and ``shared/db.py``): each worker runs at most
    # ``max_in_flight`` requests at once (twice its connections), lets ``max_queued``
    # more wait up to ``queue_timeout_seconds`` for a turn and answers 503 past that. A request
    # holds at most one pooled connection at a time, so the pool bounds concurrency inside the
    # database and never deadlocks; one that waits ``db_pool_timeout_seconds`` answers 503.
    max_in_flight: int = Field(default=64, ge=1, le=10_000)
    max_queued: int = Field(default=64, ge=0, le=100_000)
    queue_timeout_seconds: float = Field(default=0.5, gt=0, le=60)
    db_pool_size: int = Field(default=32, ge=1, le=1_000)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        if not self.database_url:
            problems.append("AUTOFIN_DATABASE_URL must be set")
        if self.secret_key is None or self.secret_key in PLACEHOLDERS or len(self.secret_key) < 32:
            problems.append("AUTOFIN_SECRET_KEY must be a real secret of at least 32 characters")
        if self.stripe_api_key in PLACEHOLDERS:
            problems.append("AUTOFIN_STRIPE_API_KEY must be set")
        if self.stripe_webhook_secret in PLACEHOLDERS:
            problems.append("AUTOFIN_STRIPE_WEBHOOK_SECRET must be set")
        if problems:
            raise InsecureSettings("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def resolved_secret_key(self) -> str:
        """The signing/encryption master secret; in development generated once and kept on disk."""
        if self.secret_key:
            return self.secret_key
        return _development_secret(self.data_dir)


def _development_secret(data_dir: Path) -> str:
    path = data_dir / DEV_SECRETS_FILE
    try:
        return str(json.loads(path.read_text())["secret_key"])
    except (OSError, ValueError, KeyError):
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"secret_key": secret}))
    tmp.chmod(0o600)
    tmp.replace(path)
    return secret


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests clear the cache after changing the environment)."""
    return Settings()
