"""Brands, and every name that leads to one (one row per name, so no name means two brands)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now


class Brand(SQLModel, table=True):
    """A car brand sold in China: its canonical id and how people name it."""

    __tablename__ = "brands"

    id: str = Field(sa_column=Column(String(40), primary_key=True))
    name_zh: str = Field(sa_column=Column(String(50), nullable=False))
    name_en: str = Field(sa_column=Column(String(50), nullable=False))
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    # Makers as a VIN's WMI names them ("BMW Brilliance"), whose cars carry this brand.
    manufacturers: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_now()
    updated_at: datetime = created_now()


class BrandName(SQLModel, table=True):
    """A name, alias or manufacturer in its compared form (``catalogue.name_key``), and whose
    it is. The primary key is what makes a name unambiguous, even under racing admin edits."""

    __tablename__ = "brand_names"

    key: str = Field(sa_column=Column(String(100), primary_key=True))
    brand_id: str = Field(
        sa_column=Column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=False, index=True)
    )
