"""The rate-limit counters: one row per key, its window's start and the attempts in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, String
from sqlmodel import Field, SQLModel


class RateLimitCounter(SQLModel, table=True):
    __tablename__ = "rate_limit_counters"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    window_started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    count: int = Field(sa_column=Column(Integer, nullable=False))
