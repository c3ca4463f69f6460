"""Lenders' loan products; every edit is a new immutable version."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now


class ProductStatus(StrEnum):
    active = "active"
    retired = "retired"


class Product(SQLModel, table=True):
    __tablename__ = "products"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    lender_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("organizations.id"), nullable=False, index=True)
    )
    status: ProductStatus = Field(
        default=ProductStatus.active, sa_column=Column(String(16), nullable=False)
    )
    current_version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = created_now()
    updated_at: datetime = created_now()


class ProductVersion(SQLModel, table=True):
    """The terms of one version of a product. Never updated: offers lock a version's rates."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID = Field(sa_column=Column(ForeignKey("products.id"), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    name: str = Field(max_length=200)
    method: str = Field(sa_column=Column(String(32), nullable=False))
    terms_months: list[int] = Field(sa_column=Column(JSONB, nullable=False))
    min_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    max_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    max_ltv: Decimal = Field(sa_column=Column(Numeric(6, 4), nullable=False))
    min_down_payment_ratio: Decimal = Field(sa_column=Column(Numeric(6, 4), nullable=False))
    upfront_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    rate_card: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    vehicle_types: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    subsidy: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    platform_guarantee: bool = Field(sa_column=Column(Boolean, nullable=False))
    auto_fund: bool = Field(sa_column=Column(Boolean, nullable=False))
    # With ``auto_fund`` false: the deals approved without a lender's decision (``{max_amount,
    # max_ltv, grades}``) and the gates funding waits for.
    auto_approve: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    funding_gates: list[str] = Field(
        default_factory=lambda: ["contract_signed", "stipulations", "insurance"],
        sa_column=Column(JSONB, nullable=False),
    )
    # Kept by the lender from what it pays the dealer at funding (fen; 0: the whole principal).
    dealer_fee: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )
    # How the product collects (``pricing.collections.CollectionTerms``); None: the defaults.
    collections: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    # Days after funding by which the dealer must have the car registered as collateral.
    collateral_days: int = Field(
        default=60, sa_column=Column(Integer, nullable=False, server_default="60")
    )
    # The platform's commission: platform-owned, carried for accounting, never used in ranking.
    commission_rate: Decimal = Field(
        default=Decimal(0), sa_column=Column(Numeric(6, 4), nullable=False)
    )
    created_at: datetime = created_now()


class CatalogueGeneration(SQLModel, table=True):
    """One row naming the state of the matchable catalogue: triggers give it a new random value
    whenever a product or a lender's status changes, in the transaction that changes it. A
    process keeps what it prepared from the catalogue by this value, so a reader that sees the
    same value knows the catalogue it prepared is the one committed now (a random value, not a
    counter: databases cloned from one template never give one value two catalogues)."""

    __tablename__ = "catalogue_generation"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: int = Field(
        default=1,
        sa_column=Column(Integer, primary_key=True, server_default=text("1")),
    )
    generation: uuid.UUID = Field(
        sa_column=Column(Uuid, nullable=False, server_default=text("gen_random_uuid()"))
    )
