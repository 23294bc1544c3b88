"""KPI routes (stub, KPI work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
