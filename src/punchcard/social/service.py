"""Social sharing's use cases: settings, recording a share, following a click, and the
figures. Never commits: the caller's transaction does."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.engagement.points import award_points
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.programs import service as programs
from punchcard.social import figures as figures_repo
from punchcard.social import repository as repo
from punchcard.social.domain import (
    EarnOn,
    EarnStatus,
    Platform,
    SocialSettings,
    day_of,
    is_bot,
    is_token,
    new_salt,
    new_token,
    redirect_url,
    safe_url,
    share_outcome,
    target_allowed,
    target_hash,
    visitor_hash,
)
from punchcard.social.errors import (
    PlatformNotAllowedError,
    SharingInactiveError,
    TargetUrlNotAllowedError,
    TargetUrlRequiredError,
)

TOKEN_TRIES = 5

# --- settings ------------------------------------------------------------------------------


def get_settings(session: Session, program_id: int) -> tuple[SocialSettings, datetime | None]:
    """The program's settings; before the first PUT, the defaults (inactive)."""
    found = repo.get_settings(session, program_id)
    return found if found is not None else (SocialSettings(), None)


def put_settings(
    session: Session, *, program_id: int, settings: SocialSettings, now: datetime
) -> SocialSettings:
    """Replace the settings. Active sharing needs a target_url: it is the page shared by
    default and the site every shared page must be on. Without it a storefront key (which
    shops expose in their JavaScript) could mint links on the merchant's domain to any site."""
    target = settings.target_url
    if target is not None:
        target = safe_url(target)
        if target is None:
            raise TargetUrlNotAllowedError(
                "target_url must be a plain http(s) URL: host[:port], no user info, no backslash",
                details={"field": "target_url"},
            )
    elif settings.active:
        raise TargetUrlRequiredError(
            "active sharing needs a target_url: the page shared by default, whose host "
            "(or subdomains) every shared page must be on",
            details={"field": "target_url"},
        )
    platforms = tuple(dict.fromkeys(settings.platforms))  # once each, in the order given
    settings = replace(settings, platforms=platforms, target_url=target)
    repo.put_settings(session, program_id, settings, now)
    return settings


def configured(session: Session, program_id: int) -> bool:
    return repo.is_active(session, program_id)


# --- sharing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareResult:
    link: repo.LinkRow
    created: bool
    points_earned: int  # by this share
    detail: str


def _active(session: Session, program_id: int) -> SocialSettings:
    found = repo.get_settings(session, program_id)
    if found is None or not found[0].active:
        raise SharingInactiveError("social sharing is not active for this program")
    return found[0]


def _target(settings: SocialSettings, platform: Platform, target_url: str | None) -> str:
    if platform not in settings.platforms:
        raise PlatformNotAllowedError(
            f"{platform.value} is not among the program's share platforms",
            details={"platform": platform.value, "allowed": [p.value for p in settings.platforms]},
        )
    if settings.target_url is None:  # not while active (a CHECK constraint): defence only
        raise TargetUrlRequiredError(
            "the program has no target_url: set one in the sharing settings",
            details={"field": "target_url"},
        )
    target = safe_url(target_url or settings.target_url)
    if target is None or not target_allowed(target, settings.target_url):
        raise TargetUrlNotAllowedError(
            "target_url must be a plain http(s) URL (host[:port], no user info, no backslash) "
            "on the host of the program's target_url or a subdomain of it",
            details={"field": "target_url", "allowed_host": settings.target_url},
        )
    return target


def _link(
    session: Session, program_id: int, member_id: int, platform: Platform, target: str,
    now: datetime,
) -> tuple[repo.LinkRow, bool]:  # fmt: skip
    """The member's link for the platform and target, made on first use."""
    key = target_hash(target)
    created = False
    for _ in range(TOKEN_TRIES):
        found = repo.find_link(session, program_id, member_id, platform.value, key)
        if found is not None:
            return found, created
        created = repo.insert_link(
            session,
            {
                "program_id": program_id,
                "member_id": member_id,
                "token": new_token(),
                "platform": platform.value,
                "target_url": target,
                "target_hash": key,
                "share_count": 0,
                "shared_at": now,
                "share_day": day_of(now),
                "earn_status": EarnStatus.AWAITING_CLICK.value,
                "points": 0,
                "created_at": now,
            },
        )
    raise RuntimeError("could not allocate a unique share token")  # ~never: 49 random bits


def _explain(status: EarnStatus, settings: SocialSettings, platform: Platform) -> str:
    if status is EarnStatus.EARNED:
        return f"{settings.points_per_share} points for this share"
    if status is EarnStatus.AWAITING_CLICK:
        return "points come when the link is first clicked"
    if status is EarnStatus.DAILY_CAP_REACHED:
        return (
            f"no points: {settings.daily_cap_per_platform} {platform.value} shares already "
            "earned points today (UTC)"
        )
    return "no points: the program gives none for shares"


def share(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    platform: Platform,
    target_url: str | None,
    now: datetime,
) -> ShareResult:
    """Record that the member shares a link (made on first use, the same one after). It earns
    points_per_share once at most: now, or at its first click with earn_on "click"; either
    way only while the member's platform cap of that UTC day has room."""
    settings = _active(session, program_id)
    target = _target(settings, platform, target_url)
    ledger.lock(session, program_id, member_id)  # 404 for no such member; shares queue here
    link, created = _link(session, program_id, member_id, platform, target, now)
    if link.earned_at is not None:
        repo.record_share(session, link.id, now=now, status=None, points=0)
        detail = f"no points: this link already earned {link.points} points (a link earns once)"
        return ShareResult(_reload(session, link), created, 0, detail)
    if settings.earn_on is EarnOn.CLICK:
        status = EarnStatus.AWAITING_CLICK
    else:
        earned = repo.earned_on_day(session, program_id, member_id, platform.value, day_of(now))
        status = share_outcome(settings, earned)
    points = settings.points_per_share if status is EarnStatus.EARNED else 0
    if not repo.record_share(session, link.id, now=now, status=status, points=points):
        points = 0  # earned meanwhile (cannot happen under the lock; the guard holds anyway)
    if points:
        _award(session, program_id, member_id, link.id, link.token, link.platform, points, now)
    detail = _explain(status, settings, platform)
    return ShareResult(_reload(session, link), created, points, detail)


def _reload(session: Session, link: repo.LinkRow) -> repo.LinkRow:
    found = repo.find_link(
        session, link.program_id, link.member_id, link.platform, target_hash(link.target_url)
    )
    assert found is not None
    return found


def _award(
    session: Session, program_id: int, member_id: int, share_id: int, token: str, platform: str,
    points: int, now: datetime,
) -> None:  # fmt: skip
    award_points(
        session,
        program=programs.get_program(session, program_id),
        member_id=member_id,
        points=points,
        reason="share",
        reference=f"share:{token}",
        occurred_at=now,
        now=now,
        meta={"share_id": share_id, "platform": platform},
    )


# --- clicks --------------------------------------------------------------------------------


def click(
    session: Session, *, token: str, address: str | None, user_agent: str | None, now: datetime
) -> str | None:
    """Where a click on /s/{token} goes, after recording it; None for a token that names no
    link of an active program, or a link whose page is not (or no longer) on the program's
    site. Previewers and scripts are sent on without being counted."""
    token = token.lower()
    if not is_token(token):
        return None
    target = repo.click_target(session, token)
    if target is None or not target.active:
        return None
    # checked again at every click: a link stored before a fix, or before the program's
    # target_url moved to another site, never sends anyone off the program's site
    page = safe_url(target.target_url)
    if page is None or not target_allowed(page, target.home_url):
        return None
    url = redirect_url(page, platform=target.platform, campaign=target.utm_campaign, token=token)
    if is_bot(user_agent):
        return url
    today = day_of(now)
    salt = target.salt
    if salt is None or target.salt_day != today:
        salt = repo.rotate_salt(session, target.program_id, today, new_salt())
    repo.insert_click(
        session,
        {
            "program_id": target.program_id,
            "member_id": target.member_id,
            "share_id": target.id,
            "clicked_at": now,
            "visitor_hash": visitor_hash(salt, address, user_agent),
        },
    )
    if target.earn_status == EarnStatus.AWAITING_CLICK.value:
        _first_click(session, target, now)
    return url


def _first_click(session: Session, target: repo.ClickTarget, now: datetime) -> None:
    """The share's first click decides its points, under the cap of the day of the share."""
    ledger.lock(session, target.program_id, target.member_id)
    earned = repo.earned_on_day(
        session, target.program_id, target.member_id, target.platform, target.share_day
    )
    settings = SocialSettings(
        points_per_share=target.points_per_share,
        daily_cap_per_platform=target.daily_cap_per_platform,
    )
    status = share_outcome(settings, earned)
    points = target.points_per_share if status is EarnStatus.EARNED else 0
    decided = repo.decide_at_click(
        session, target.id, status=status, points=points, now=now, day=target.share_day
    )
    if decided and points:
        _award(
            session, target.program_id, target.member_id, target.id, target.token,
            target.platform, points, now,
        )  # fmt: skip


# --- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkFigures:
    link: repo.LinkRow
    figures: figures_repo.Figures


def member_shares(
    session: Session, *, program_id: int, member_id: int, after_id: int, limit: int
) -> list[LinkFigures]:
    members.get(session, program_id=program_id, member_id=member_id)
    links = repo.member_links(session, program_id, member_id, after_id=after_id, limit=limit)
    figures = figures_repo.figures(session, [link.id for link in links])
    return [LinkFigures(link, figures[link.id]) for link in links]


def summary(session: Session, *, program_id: int) -> list[figures_repo.PlatformRow]:
    return figures_repo.summary(session, program_id)
