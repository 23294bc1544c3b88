"""HTTP routes of tiers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["tiers"])
