"""Challenges (with joining one), badges and streaks: what the member is working towards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Request
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.badges import service as badges
from punchcard.challenges import service as challenges
from punchcard.challenges.domain import Metric, Status
from punchcard.db import session_scope
from punchcard.errors import ConflictError, NotFoundError, PunchcardError
from punchcard.streaks import service as streaks
from punchcard.streaks.domain import View
from punchcard.web import i18n
from punchcard.web.deps import Csrf, Db, Now, Session
from punchcard.web.errors import WebError
from punchcard.web.portal.common import Portal, not_found, page, see_other, signed_in

router = APIRouter()


@dataclass(frozen=True)
class ChallengeView:
    id: int
    name: str
    description: str | None
    status: str
    progress: str
    value: Decimal
    target: Decimal
    can_join: bool
    deadline: datetime | None


def _amount(portal: Portal, value: Decimal, metric: Metric) -> str:
    t = i18n.current()
    if metric is Metric.SUM:
        return t.money(value, portal.program.currency)
    return t.number(value)


def _status(status: Status) -> str:
    _ = i18n.gettext
    return {
        Status.AVAILABLE: _("Open to join"),
        Status.JOINED: _("Joined"),
        Status.IN_PROGRESS: _("In progress"),
        Status.COMPLETED: _("Completed"),
        Status.EXPIRED: _("Time ran out"),
    }[status]


def _challenge(portal: Portal, found: challenges.MemberChallenge) -> ChallengeView:
    step = found.step
    progress = i18n.gettext(
        "%(done)s of %(target)s",
        done=_amount(portal, found.progress, step.metric),
        target=_amount(portal, step.target, step.metric),
    )
    window = found.spec.window
    deadline = found.run.deadline if found.run is not None else None
    if deadline is None and window is not None and window.type == "fixed":
        deadline = window.ends_at
    return ChallengeView(
        id=int(found.challenge.id),
        name=str(found.challenge.name),
        description=found.challenge.description,
        status=_status(found.status),
        progress=f"{progress} · {step.label}" if step.label else progress,
        value=min(found.progress, step.target),
        target=step.target,
        can_join=found.status is Status.AVAILABLE and found.spec.opt_in_required,
        deadline=deadline,
    )


@dataclass(frozen=True)
class StreakView:
    name: str
    current: str
    best: str
    deadline: datetime | None
    counted: bool
    next_bonus: str | None


def _streak(portal: Portal, row: object, view: View) -> StreakView:
    t, ngettext = i18n.current(), i18n.ngettext
    weekly = getattr(row, "period", "day") == "week"
    if weekly:
        current = ngettext(
            "Current streak: %(num)s week in a row",
            "Current streak: %(num)s weeks in a row",
            view.length,
            num=t.number(view.length),
        )
    else:
        current = ngettext(
            "Current streak: %(num)s day in a row",
            "Current streak: %(num)s days in a row",
            view.length,
            num=t.number(view.length),
        )
    bonus = None
    if view.next_bonus is not None:
        bonus = i18n.gettext(
            "Next bonus: %(count)s %(points)s when the streak reaches %(length)s",
            count=t.number(view.next_bonus.points),
            points=portal.points_name,
            length=t.number(view.next_bonus.length),
        )
    return StreakView(
        name=str(getattr(row, "name", "")),
        current=current,
        best=i18n.gettext("Best: %(count)s", count=t.number(view.best)),
        deadline=view.deadline,
        counted=view.counted,
        next_bonus=bonus,
    )


@router.get("/activity")
def activity(request: Request, session: Session, db: Db, now: Now) -> Response:
    portal = signed_in(session, db)
    member_id, program_id = portal.member.id, portal.program_id
    with db.reader() as reading:
        running = challenges.member_challenges(
            reading, program_id=program_id, member_id=member_id, now=now
        )
        earned = badges.member_badges(
            reading, program_id=program_id, member_id=member_id, include_locked=True, now=now
        )
        streak_rows = streaks.member_streaks(
            reading, program_id=program_id, member_id=member_id, now=now
        )
    context = {
        "challenges": [_challenge(portal, c) for c in running],
        "earned": earned.earned,
        "locked": earned.locked or [],
        "streaks": [_streak(portal, row, view) for row, view in streak_rows],
    }
    return page(request, session, "activity.html", context, portal=portal)


@router.post("/activity/challenges/{challenge_id}/join", dependencies=[Csrf])
def join(session: Session, db: Db, now: Now, challenge_id: Id) -> Response:
    portal = signed_in(session, db)
    try:
        with session_scope(db.writer) as writing:
            challenges.join(
                writing,
                program_id=portal.program_id,
                member_id=portal.member.id,
                challenge_id=challenge_id,
                now=now,
            )
    except NotFoundError:
        raise not_found() from None
    except (ConflictError, PunchcardError):
        raise WebError(
            409,
            i18n.gettext("You cannot join this challenge"),
            i18n.gettext("It is closed, or it is not open to you."),
        ) from None
    return see_other("/portal/activity")
