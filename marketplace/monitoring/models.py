"""One monitoring report per day it was run for (a rerun replaces that day's figures)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import created_now


class MonitorReport(SQLModel, table=True):
    __tablename__ = "risk_monitor_reports"

    as_of: date = Field(sa_column=Column(Date, primary_key=True))
    scorecard_version: str = Field(sa_column=Column(String(64), nullable=False))
    figures: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_now()
