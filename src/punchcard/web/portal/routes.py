"""The portal's pages, one module each; this gathers their routes into one router."""

from __future__ import annotations

from fastapi import APIRouter

from punchcard.web.portal import (
    account,
    activity,
    history,
    home,
    impact,
    invite,
    leaderboard,
    rewards,
    signin,
    wallet,
)

router = APIRouter()
for module in (signin, home, history, rewards, wallet, activity, leaderboard, invite, impact,
               account):  # fmt: skip
    router.include_router(module.router)
