from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from shared.brands.schemas import BrandInput
from shared.identity.models import MemberRole, OrganizationKind, OrganizationStatus, SmsPurpose
from shared.identity.uscc import normalize_uscc
from shared.schemas import (
    USCC_PATTERN,
    Email,
    FullName,
    MobilePhone,
    Password,
    RequestModel,
    ResponseModel,
)

Uscc = Annotated[
    str,
    StringConstraints(max_length=32),
    AfterValidator(normalize_uscc),
    Field(json_schema_extra={"pattern": USCC_PATTERN}),
]
OrgName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RegisterBuyer(RequestModel):
    email: Email
    password: Password
    full_name: FullName
    phone: MobilePhone
    sms_code: Annotated[str, StringConstraints(min_length=4, max_length=8)] = Field(
        description="The code sent to the phone for purpose `register` (POST /v1/auth/sms-codes)."
    )


class UserPublic(ResponseModel):
    id: uuid.UUID
    email: str
    full_name: str
    kind: str
    created_at: datetime


class Token(ResponseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int


class LenderCreate(RequestModel):
    name: OrgName
    uscc: Uscc


class DealerCreate(RequestModel):
    name: OrgName
    uscc: Uscc
    city: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    brands: Annotated[list[BrandInput], Field(max_length=30)] = []


class OrganizationPublic(ResponseModel):
    id: uuid.UUID
    kind: OrganizationKind
    name: str
    uscc: str
    city: str | None
    brands: list[str]
    status: OrganizationStatus
    created_at: datetime


class MemberCreate(RequestModel):
    email: Email
    password: Password
    full_name: FullName
    role: MemberRole = MemberRole.staff


class MemberPublic(ResponseModel):
    user_id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    full_name: str
    role: MemberRole


class AdvisorCreate(RequestModel):
    email: Email
    password: Password
    full_name: FullName


class ApiKeyCreate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "default"


class ApiKeyPublic(ResponseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str


SmsCodeText = Annotated[str, StringConstraints(min_length=4, max_length=8)]


class SmsCodeRequest(RequestModel):
    phone: MobilePhone
    purpose: SmsPurpose


class PhoneToken(RequestModel):
    phone: MobilePhone
    sms_code: SmsCodeText


class DevSmsRequest(RequestModel):
    phone: MobilePhone


class DevSmsPublic(ResponseModel):
    code: str
    purpose: str
    sent_at: datetime
