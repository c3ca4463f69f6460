"""Who can act: people (buyers, advisors, admins, organisation staff) and organisations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now


class UserKind(StrEnum):
    buyer = "buyer"
    advisor = "advisor"
    admin = "admin"
    staff = "staff"


class OrganizationKind(StrEnum):
    lender = "lender"
    dealer = "dealer"


class OrganizationStatus(StrEnum):
    active = "active"
    suspended = "suspended"


class MemberRole(StrEnum):
    admin = "admin"
    manager = "manager"
    staff = "staff"


class User(SQLModel, table=True):
    __tablename__ = "users"
    # Advisors are found by kind among hundreds of thousands of buyers (on every approval).
    __table_args__ = (Index("ix_users_kind", "kind"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    password_hash: str | None = Field(default=None, max_length=200)
    full_name: str = Field(max_length=100)
    # The mobile phone, verified by a one-time code: AES-GCM at rest, found by a keyed hash
    # (one account per phone). See ``shared.pii``.
    phone_encrypted: str | None = Field(default=None, sa_column=Column(String(200)))
    phone_hash: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    kind: UserKind = Field(sa_column=Column(String(16), nullable=False))
    is_active: bool = True
    # The person the account belongs to, bound for good once name, national ID and phone were
    # verified together (三要素): the keyed hash of the ID, one account per ID.
    person_hash: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    identity_verified_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    created_at: datetime = created_now()


class SmsPurpose(StrEnum):
    register = "register"
    login = "login"
    sign = "sign"


class SmsCode(SQLModel, table=True):
    """A one-time code sent to a phone for one purpose; only a keyed hash of it is kept.

    Valid five minutes, once; a newer code for the same phone and purpose replaces it."""

    __tablename__ = "sms_codes"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    phone_hash: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    purpose: SmsPurpose = Field(sa_column=Column(String(16), nullable=False))
    code_hash: str = Field(sa_column=Column(String(64), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = created_now()


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: OrganizationKind = Field(sa_column=Column(String(16), nullable=False))
    name: str = Field(max_length=200)
    uscc: str = Field(sa_column=Column(String(18), nullable=False, unique=True))
    city: str | None = Field(default=None, max_length=100)
    brands: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    status: OrganizationStatus = Field(
        default=OrganizationStatus.active, sa_column=Column(String(16), nullable=False)
    )
    created_at: datetime = created_now()


class Membership(SQLModel, table=True):
    """A staff login's place in one organisation (one organisation per staff login)."""

    __tablename__ = "memberships"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    role: MemberRole = Field(sa_column=Column(String(16), nullable=False))
    created_at: datetime = created_now()


class ApiKey(SQLModel, table=True):
    """An organisation's API key; only a SHA-256 of the key is kept."""

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = created_now()
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
