"""HTTP routes of rewards."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["rewards"])
