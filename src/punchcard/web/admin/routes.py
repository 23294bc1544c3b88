"""The admin console's pages, one router per area, gathered into the router that
`punchcard.web.mount` serves under /admin."""

from __future__ import annotations

from fastapi import APIRouter

from punchcard.web.admin import (
    auth,
    dashboard,
    engagement,
    members,
    program,
    referrals,
    rewards,
    rules,
    tiers,
)

AREAS = (auth, program, rules, tiers, rewards, engagement, members, referrals, dashboard)
router = APIRouter()
for area in AREAS:
    router.include_router(area.router)
