from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from marketplace.applications.national_id import normalize_national_id
from marketplace.preapprovals.schemas import PreapprovalPublic
from shared.schemas import NATIONAL_ID_PATTERN, RequestModel, ResponseModel

NationalId = Annotated[
    str,
    StringConstraints(max_length=32),
    AfterValidator(normalize_national_id),
    Field(json_schema_extra={"pattern": NATIONAL_ID_PATTERN}),
]
Fen = Annotated[int, Field(strict=True, ge=0, le=10_000_000_000)]
EmploymentType = Literal[
    "salaried", "civil_servant", "self_employed", "freelance", "part_time", "retired", "other"
]


class Consent(RequestModel):
    """The applicant's authorisation of a credit-bureau pull and, separately, consent to share
    the decision with the named lenders (``GET /v1/buyer/consents`` shows the texts and
    versions recorded); the server records when and by whom they were given."""

    bureau_pull: bool
    share_with_lenders: bool
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=200)] = (
        "auto_loan_preapproval"
    )


class ApplicationCreate(RequestModel):
    national_id: NationalId
    age: Annotated[int, Field(strict=True, ge=0, le=120)]
    monthly_income: Fen
    employment_months: Annotated[int, Field(strict=True, ge=0, le=720)]
    housing: Literal["own", "mortgage", "rent", "family"]
    existing_monthly_debt: Fen
    consent: Consent
    # Optional, so existing clients keep working; a missing value scores in the missing bin.
    marital_status: Literal["single", "married", "divorced", "widowed"] | None = None
    employment_type: EmploymentType | None = None
    monthly_expenses: Fen | None = None
    assets: Annotated[int, Field(strict=True, ge=0, le=10_000_000_000_000)] | None = None
    dependents: Annotated[int, Field(strict=True, ge=0, le=20)] | None = None


class ReasonPublic(ResponseModel):
    code: str
    en: str
    zh: str


class Explanation(ResponseModel):
    """Why an automated decision came out as it did, in plain words (PIPL Art. 24: a person
    affected by an automated decision may ask for an explanation and for a person to review)."""

    en: str
    zh: str


class ConsentPublic(ResponseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    kind: str
    version: str
    text: dict[str, str]
    recipients: list[dict[str, str]]
    granted_at: datetime
    withdrawn_at: datetime | None


class ApplicationPublic(ResponseModel):
    id: uuid.UUID
    status: str
    decision: str | None
    grade: str | None
    credit_limit: int
    reasons: list[ReasonPublic]
    national_id_masked: str
    channel: str
    created_at: datetime
    decided_at: datetime | None
    preapproval: PreapprovalPublic | None = None
    explanation: Explanation | None = None  # for a decided application
