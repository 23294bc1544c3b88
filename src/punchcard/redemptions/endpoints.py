"""HTTP routes of redemptions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["redemptions"])
