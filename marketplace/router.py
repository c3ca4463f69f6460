"""All marketplace routes, mounted by the app."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
