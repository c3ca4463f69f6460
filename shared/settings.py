"""Settings, read from ``AUTOFIN_*`` environment variables.

Development (the default) runs every flow with nothing configured: secrets that are not set
are generated once and kept under the data directory. Production refuses to start with a
placeholder, generated, short or guessable secret, or Stripe keys not shaped like Stripe's.

A refusal, and any other invalid setting, is a ``SettingsError`` that names the settings and
never their values: pydantic's own ``ValidationError`` prints the input (a secret) and never
leaves ``Settings``.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_STRIPE_KEY = "sk_test_autofin_development"  # noqa: S105 (a known placeholder)
PLACEHOLDER_WEBHOOK_SECRET = "whsec_autofin_development"  # noqa: S105
PLACEHOLDERS = frozenset(
    {"", "changeme", "secret", PLACEHOLDER_STRIPE_KEY, PLACEHOLDER_WEBHOOK_SECRET}
)
DEV_SECRETS_FILE = "dev-secrets.json"


# Stripe's live secret and restricted keys, and its webhook signing secrets.
STRIPE_LIVE_KEY = re.compile(r"^(sk|rk)_live_[0-9A-Za-z]{24,}$")
STRIPE_WEBHOOK_SECRET = re.compile(r"^whsec_[0-9A-Za-z+/=]{24,}$")
SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_BITS = 128  # Shannon entropy of the characters, times the length
SECRET_KEY_MIN_DISTINCT = 10


class SettingsError(ValueError):
    """Settings that cannot be used; the message names settings, never their values."""


class InsecureSettings(SettingsError):
    """Raised when production settings carry a placeholder, weak or misshapen secret."""


def estimated_entropy_bits(secret: str) -> float:
    """The secret's length times the Shannon entropy of its characters: 40 ``a``s hold 0 bits,
    ``secrets.token_urlsafe(48)`` about 350."""
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret)


def is_strong_secret(secret: str | None) -> bool:
    return (
        secret is not None
        and secret not in PLACEHOLDERS
        and len(secret) >= SECRET_KEY_MIN_LENGTH
        and len(set(secret)) >= SECRET_KEY_MIN_DISTINCT
        and estimated_entropy_bits(secret) >= SECRET_KEY_MIN_BITS
    )


STRIPE_JS_URL = "https://js.stripe.com/v3/"


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
    # What the payment page gives Stripe.js: the publishable key and where Stripe.js is loaded
    # from (unset: Stripe's own, or the emulator's stand-in when the API base is not Stripe's).
    stripe_publishable_key: str = "pk_test_autofin_development"
    stripe_js_url: str | None = None

    preapproval_valid_days: int = Field(default=45, ge=1, le=365)
    # Offers a pre-approval keeps: the cheapest this many, and as many per vehicle type from
    # products any brand may use (``pricing.shortlist.shortlist``); 0 keeps every offer.
    offers_per_approval: int = Field(default=20, ge=0, le=10_000)
    bureau_latency_ms: int = Field(default=0, ge=0)
    bureau_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    log_level: str = "INFO"

    # Request bodies larger than this are refused with 413 before they are parsed
    # (``shared/web/limits.py``), with or without a Content-Length.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024**3)

    # Uploaded documents and signed contracts (default ``<data_dir>/documents``), the largest
    # upload accepted, and the lender's decision clock in working hours (Asia/Shanghai).
    documents_dir: Path | None = None
    max_document_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    decision_sla_working_hours: int = Field(default=2, ge=1, le=72)

    # Load (see ``shared/web/admission.py`` and ``shared/db.py``): each worker runs at most
    # ``max_in_flight`` requests at once (twice its connections), lets ``max_queued``
    # more wait up to ``queue_timeout_seconds`` for a turn and answers 503 past that (after
    # ``shed_delay_seconds`` when the queue was full, so rejections cannot eat the CPU). A request
    # holds at most one pooled connection at a time, so the pool bounds concurrency inside the
    # database and never deadlocks; one that waits ``db_pool_timeout_seconds`` answers 503.
    max_in_flight: int = Field(default=64, ge=1, le=10_000)
    max_queued: int = Field(default=64, ge=0, le=100_000)
    queue_timeout_seconds: float = Field(default=0.5, gt=0, le=60)
    shed_delay_seconds: float = Field(default=0.25, ge=0, le=10)
    db_pool_size: int = Field(default=32, ge=1, le=1_000)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        if not self.database_url:
            problems.append("AUTOFIN_DATABASE_URL must be set")
        if not is_strong_secret(self.secret_key):
            problems.append(
                f"AUTOFIN_SECRET_KEY must be a random secret of at least {SECRET_KEY_MIN_LENGTH}"
                f" characters (about {SECRET_KEY_MIN_BITS} bits; e.g. from"
                " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if not STRIPE_LIVE_KEY.match(self.stripe_api_key):
            problems.append(
                "AUTOFIN_STRIPE_API_KEY must be a live Stripe key (sk_live_… or rk_live_…)"
            )
        if not STRIPE_WEBHOOK_SECRET.match(self.stripe_webhook_secret):
            problems.append(
                "AUTOFIN_STRIPE_WEBHOOK_SECRET must be a Stripe signing secret (whsec_…)"
            )
        if problems:
            raise InsecureSettings("refusing to start in production: " + "; ".join(problems))
        return self

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            # Rebuilt from the settings' names and pydantic's messages only: the error itself
            # (and its traceback, hence ``from None``) shows the input values, secrets included.
            raise _settings_error(error) from None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def stripe_js_address(self) -> str:
        """Where the pages load Stripe.js from: the setting, else Stripe's own, else (an
        emulator as the API base) the emulator's stand-in at ``/js.stripe.com/v3/``."""
        if self.stripe_js_url:
            return self.stripe_js_url
        base = self.stripe_api_base.rstrip("/")
        if base == "https://api.stripe.com":
            return STRIPE_JS_URL
        return f"{base}/js.stripe.com/v3/"

    def resolved_secret_key(self) -> str:
        """The signing/encryption master secret; in development generated once and kept on disk."""
        if self.secret_key:
            return self.secret_key
        return _development_secret(self.data_dir)


def _settings_error(error: ValidationError) -> SettingsError:
    problems = []
    insecure = False
    for detail in error.errors(include_input=False, include_url=False, include_context=False):
        if not detail["loc"]:  # the production check: its message names the settings
            insecure = True
            problems.append(str(detail["msg"]).removeprefix("Value error, "))
        else:
            names = ", ".join(f"AUTOFIN_{str(part).upper()}" for part in detail["loc"])
            problems.append(f"{names}: {detail['msg']}")
    return (InsecureSettings if insecure else SettingsError)("; ".join(problems))


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
