"""Every SQL statement of social sharing but the figures (`social.figures`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from punchcard.db import insert_or_skip, rowcount
from punchcard.models import Order
from punchcard.models.base import table_of
from punchcard.models.share import ShareAttribution, ShareClick, ShareLink, ShareSettings
from punchcard.social.domain import EarnOn, EarnStatus, Platform, SocialSettings

_SETTINGS = table_of(ShareSettings)
_LINKS = table_of(ShareLink)
_CLICKS = table_of(ShareClick)
_ATTRIBUTIONS = table_of(ShareAttribution)


def _settings_of(row: Any) -> SocialSettings:
    return SocialSettings(
        active=bool(row.active),
        points_per_share=row.points_per_share,
        daily_cap_per_platform=row.daily_cap_per_platform,
        earn_on=EarnOn(row.earn_on),
        platforms=tuple(Platform(p) for p in json.loads(row.platforms)),
        target_url=row.target_url,
        utm_campaign=row.utm_campaign,
        attribution_days=row.attribution_days,
    )


# --- settings ------------------------------------------------------------------------------


def get_settings(session: Session, program_id: int) -> tuple[SocialSettings, datetime] | None:
    row = session.execute(
        select(_SETTINGS).where(_SETTINGS.c.program_id == program_id)
    ).one_or_none()
    return None if row is None else (_settings_of(row), row.updated_at)


def is_active(session: Session, program_id: int) -> bool:
    active = session.execute(
        select(_SETTINGS.c.active).where(_SETTINGS.c.program_id == program_id)
    ).scalar_one_or_none()
    return bool(active)


def put_settings(
    session: Session, program_id: int, settings: SocialSettings, now: datetime
) -> None:
    """Insert or replace; today's salt is left as it is."""
    values = {
        "active": settings.active,
        "points_per_share": settings.points_per_share,
        "daily_cap_per_platform": settings.daily_cap_per_platform,
        "earn_on": settings.earn_on.value,
        "platforms": json.dumps([p.value for p in settings.platforms]),
        "target_url": settings.target_url,
        "utm_campaign": settings.utm_campaign,
        "attribution_days": settings.attribution_days,
        "updated_at": now,
    }
    statement = insert_or_skip(session, _SETTINGS).values(program_id=program_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["program_id"], set_=values))


def rotate_salt(session: Session, program_id: int, today: date, salt: str) -> str:
    """Today's salt of the program: the given one if no other process set one first."""
    session.execute(
        update(_SETTINGS)
        .where(
            _SETTINGS.c.program_id == program_id,
            (_SETTINGS.c.salt_day.is_(None)) | (_SETTINGS.c.salt_day < today),
        )
        .values(salt=salt, salt_day=today)
    )
    current: str = session.execute(
        select(_SETTINGS.c.salt).where(_SETTINGS.c.program_id == program_id)
    ).scalar_one()
    return current


# --- links ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    id: int
    program_id: int
    member_id: int
    token: str
    platform: str
    target_url: str
    share_count: int
    shared_at: datetime
    share_day: date
    earn_status: str
    points: int
    earned_at: datetime | None
    earn_day: date | None
    created_at: datetime


_LINK_COLUMNS = tuple(_LINKS.c[name] for name in LinkRow.__dataclass_fields__)


def _link_of(row: Any) -> LinkRow:
    return LinkRow(*row)


def find_link(
    session: Session, program_id: int, member_id: int, platform: str, target_hash: str
) -> LinkRow | None:
    row = session.execute(
        select(*_LINK_COLUMNS).where(
            _LINKS.c.program_id == program_id,
            _LINKS.c.member_id == member_id,
            _LINKS.c.platform == platform,
            _LINKS.c.target_hash == target_hash,
        )
    ).one_or_none()
    return None if row is None else _link_of(row)


def insert_link(session: Session, values: dict[str, Any]) -> bool:
    """False when a unique key holds already: the same link made meanwhile, or (once in a
    very long while) the same token."""
    statement = insert_or_skip(session, _LINKS).values(**values).on_conflict_do_nothing()
    return session.execute(statement.returning(_LINKS.c.id)).scalar_one_or_none() is not None


def earned_on_day(
    session: Session, program_id: int, member_id: int, platform: str, day: date
) -> int:
    """How many of the member's links on the platform earned under the cap of `day`."""
    count = session.execute(
        select(func.count()).where(
            _LINKS.c.program_id == program_id,
            _LINKS.c.member_id == member_id,
            _LINKS.c.platform == platform,
            _LINKS.c.earn_day == day,
            _LINKS.c.earn_status == EarnStatus.EARNED.value,
        )
    ).scalar_one()
    return int(count)


def record_share(
    session: Session, link_id: int, *, now: datetime, status: EarnStatus | None, points: int
) -> bool:
    """Count a share of the link. With a `status`, the link's points are decided too, guarded
    by `earned_at IS NULL`: False, and nothing changed, if the link has earned already."""
    values: dict[str, Any] = {
        "share_count": _LINKS.c.share_count + 1,
        "shared_at": now,
        "share_day": now.date(),
    }
    statement = update(_LINKS).where(_LINKS.c.id == link_id)
    if status is not None:
        statement = statement.where(_LINKS.c.earned_at.is_(None))
        values["earn_status"] = status.value
        if status is EarnStatus.EARNED:
            values.update(points=points, earned_at=now, earn_day=now.date())
    return rowcount(session.execute(statement.values(**values))) == 1


def decide_at_click(
    session: Session, link_id: int, *, status: EarnStatus, points: int, now: datetime, day: date
) -> bool:
    """The first click after a share decides its points, once: False when another click did."""
    values: dict[str, Any] = {"earn_status": status.value}
    if status is EarnStatus.EARNED:
        values.update(points=points, earned_at=now, earn_day=day)
    result = session.execute(
        update(_LINKS)
        .where(
            _LINKS.c.id == link_id,
            _LINKS.c.earn_status == EarnStatus.AWAITING_CLICK.value,
            _LINKS.c.earned_at.is_(None),
        )
        .values(**values)
    )
    return rowcount(result) == 1


def member_links(
    session: Session, program_id: int, member_id: int, *, after_id: int, limit: int
) -> list[LinkRow]:
    rows = session.execute(
        select(*_LINK_COLUMNS)
        .where(
            _LINKS.c.program_id == program_id,
            _LINKS.c.member_id == member_id,
            _LINKS.c.id > after_id,
        )
        .order_by(_LINKS.c.id)
        .limit(limit)
    ).all()
    return [_link_of(r) for r in rows]


# --- clicks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClickTarget:
    """A link with its program's settings: all a click needs, in one statement."""

    id: int
    program_id: int
    member_id: int
    token: str
    platform: str
    target_url: str
    earn_status: str
    share_day: date
    active: bool
    home_url: str | None  # the program's target_url now: a click checks the link against it
    points_per_share: int
    daily_cap_per_platform: int
    utm_campaign: str
    attribution_days: int
    salt: str | None
    salt_day: date | None


def click_target(session: Session, token: str) -> ClickTarget | None:
    row = session.execute(
        select(
            _LINKS.c.id,
            _LINKS.c.program_id,
            _LINKS.c.member_id,
            _LINKS.c.token,
            _LINKS.c.platform,
            _LINKS.c.target_url,
            _LINKS.c.earn_status,
            _LINKS.c.share_day,
            _SETTINGS.c.active,
            _SETTINGS.c.target_url.label("home_url"),
            _SETTINGS.c.points_per_share,
            _SETTINGS.c.daily_cap_per_platform,
            _SETTINGS.c.utm_campaign,
            _SETTINGS.c.attribution_days,
            _SETTINGS.c.salt,
            _SETTINGS.c.salt_day,
        )
        .join(_SETTINGS, _SETTINGS.c.program_id == _LINKS.c.program_id)
        .where(_LINKS.c.token == token)
    ).one_or_none()
    return None if row is None else ClickTarget(**row._asdict())


def insert_click(session: Session, values: dict[str, Any]) -> None:
    session.execute(_CLICKS.insert().values(**values))


def last_click(session: Session, share_id: int, until: datetime) -> datetime | None:
    found: datetime | None = session.execute(
        select(func.max(_CLICKS.c.clicked_at)).where(
            _CLICKS.c.share_id == share_id, _CLICKS.c.clicked_at <= until
        )
    ).scalar_one_or_none()
    return found


# --- attributions --------------------------------------------------------------------------


def insert_attribution(session: Session, values: dict[str, Any]) -> bool:
    """One sign-up row per member and one row per order: a second is skipped."""
    statement = insert_or_skip(session, _ATTRIBUTIONS).values(**values).on_conflict_do_nothing()
    return session.execute(statement.returning(_ATTRIBUTIONS.c.id)).scalar_one_or_none() is not None


def signup_outcome(
    session: Session, program_id: int, member_id: int
) -> tuple[str, str | None] | None:
    """The status and reason of the member's sign-up row, if they have one."""
    row = session.execute(
        select(_ATTRIBUTIONS.c.status, _ATTRIBUTIONS.c.reason).where(
            _ATTRIBUTIONS.c.program_id == program_id,
            _ATTRIBUTIONS.c.member_id == member_id,
            _ATTRIBUTIONS.c.kind == "signup",
            _ATTRIBUTIONS.c.order_id == "",
        )
    ).one_or_none()
    return None if row is None else (row.status, row.reason)


@dataclass(frozen=True)
class SignupRow:
    share_id: int
    sharer_id: int
    signed_up_at: datetime
    clicked_at: datetime | None
    attribution_days: int


def attributed_signup(session: Session, program_id: int, member_id: int) -> SignupRow | None:
    """The member's sign-up through a share, while the program's sharing is active: one
    statement, on the attributions' unique key, for every order of every member."""
    row = session.execute(
        select(
            _ATTRIBUTIONS.c.share_id,
            _ATTRIBUTIONS.c.sharer_id,
            _ATTRIBUTIONS.c.occurred_at.label("signed_up_at"),
            _ATTRIBUTIONS.c.clicked_at,
            _SETTINGS.c.attribution_days,
        )
        .join(
            _SETTINGS,
            and_(_SETTINGS.c.program_id == _ATTRIBUTIONS.c.program_id, _SETTINGS.c.active),
        )
        .where(
            _ATTRIBUTIONS.c.program_id == program_id,
            _ATTRIBUTIONS.c.member_id == member_id,
            _ATTRIBUTIONS.c.kind == "signup",
            _ATTRIBUTIONS.c.order_id == "",
            _ATTRIBUTIONS.c.status == "attributed",
        )
    ).one_or_none()
    return None if row is None else SignupRow(**row._asdict())


def follow_refund(session: Session, program_id: int, member_id: int, order_id: str) -> None:
    """An attributed order's refunded amount is the order's own, whatever the refund was
    (lines, an amount, a cancellation): one statement, no row touched for other orders."""
    orders = table_of(Order)
    refunded = (
        select(orders.c.refunded_amount)
        .where(orders.c.program_id == program_id, orders.c.order_id == order_id)
        .scalar_subquery()
    )
    session.execute(
        update(_ATTRIBUTIONS)
        .where(
            _ATTRIBUTIONS.c.program_id == program_id,
            _ATTRIBUTIONS.c.member_id == member_id,
            _ATTRIBUTIONS.c.kind == "order",
            _ATTRIBUTIONS.c.order_id == order_id,
        )
        .values(refunded=func.coalesce(refunded, _ATTRIBUTIONS.c.refunded))
    )
