"""Social sharing's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from punchcard.api.schemas import Page, Request
from punchcard.social import figures as figures_repo
from punchcard.social import repository as repo
from punchcard.social.domain import EarnOn, EarnStatus, Platform, SocialSettings, share_urls

# http(s), an authority without user info, no backslash (browsers read it as `/`), no spaces
# or control characters (PostgreSQL refuses NUL in text). The service checks the authority
# further (exactly host[:port]: see social.domain.safe_url).
Url = Annotated[
    str,
    Field(
        max_length=2000,
        pattern=r"^https?://[^\s/?#@\\\x00-\x1f\x7f]+(?:[/?#][^\s\\\x00-\x1f\x7f]*)?$",
        examples=["https://shop.example.com/products/blue-mug"],
    ),
]
Campaign = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


class SettingsIn(Request):
    """The whole of the program's sharing settings; a field left out takes its default."""

    active: bool = Field(True, description="Off: no new shares, links answer 404, no attribution.")
    points_per_share: int = Field(10, strict=True, ge=0, le=1_000_000)
    daily_cap_per_platform: int = Field(
        3,
        strict=True,
        ge=1,
        le=1000,
        description="How many of a member's shares per platform per UTC day earn points.",
    )
    earn_on: EarnOn = Field(
        EarnOn.SHARE,
        description='"share": a share earns when recorded; "click": only at its first click.',
    )
    platforms: list[Platform] = Field(
        default_factory=lambda: list(Platform), min_length=1, max_length=len(Platform)
    )
    target_url: Url | None = Field(
        None, description="The page shared when a share names none; shared pages must be on "
        "its host (or a subdomain). Required while `active` (422 `target_url_required`)."
    )  # fmt: skip
    utm_campaign: Campaign = "loyalty_share"
    attribution_days: int = Field(
        30,
        strict=True,
        ge=1,
        le=365,
        description="How long after a click a sign-up, and after the sign-up its orders, count "
        "for the sharer.",
    )

    def settings(self) -> SocialSettings:
        return SocialSettings(
            active=self.active,
            points_per_share=self.points_per_share,
            daily_cap_per_platform=self.daily_cap_per_platform,
            earn_on=self.earn_on,
            platforms=tuple(self.platforms),
            target_url=self.target_url,
            utm_campaign=self.utm_campaign,
            attribution_days=self.attribution_days,
        )


class SettingsOut(BaseModel):
    configured: bool = Field(description="False before the first PUT: these are the defaults.")
    active: bool
    points_per_share: int
    daily_cap_per_platform: int
    earn_on: EarnOn
    platforms: list[Platform]
    target_url: str | None
    utm_campaign: str
    attribution_days: int
    updated_at: datetime | None

    @classmethod
    def of(cls, settings: SocialSettings, updated_at: datetime | None) -> SettingsOut:
        return cls(
            configured=updated_at is not None,
            active=settings.active,
            points_per_share=settings.points_per_share,
            daily_cap_per_platform=settings.daily_cap_per_platform,
            earn_on=settings.earn_on,
            platforms=list(settings.platforms),
            target_url=settings.target_url,
            utm_campaign=settings.utm_campaign,
            attribution_days=settings.attribution_days,
            updated_at=updated_at,
        )


class ShareIn(Request):
    platform: Platform
    target_url: Url | None = Field(None, description="Default: the program's target_url.")


class LinkOut(BaseModel):
    token: str = Field(examples=["k7mq2x9p4d"])
    link: str = Field(examples=["https://loyalty.example.com/s/k7mq2x9p4d"])
    platform: Platform
    target_url: str
    share_urls: dict[str, str] = Field(
        description='The page opening the platform\'s share dialog with the link: "web", '
        '"mailto" or "sms"; empty for instagram and copy.'
    )
    share_count: int = Field(description="Shares recorded for this link.")
    earn_status: EarnStatus
    points: int = Field(description="Points this link has earned (0 or points_per_share).")
    created_at: datetime
    shared_at: datetime
    earned_at: datetime | None

    @classmethod
    def fields_of(cls, link: repo.LinkRow, base_url: str) -> dict[str, object]:
        url = base_url.rstrip("/") + "/s/" + link.token
        platform = Platform(link.platform)
        return {
            "token": link.token,
            "link": url,
            "platform": platform,
            "target_url": link.target_url,
            "share_urls": share_urls(platform, url),
            "share_count": link.share_count,
            "earn_status": EarnStatus(link.earn_status),
            "points": link.points,
            "created_at": link.created_at,
            "shared_at": link.shared_at,
            "earned_at": link.earned_at,
        }


class ShareOut(LinkOut):
    created: bool = Field(description="True when this call made the link.")
    points_earned: int = Field(description="Points this share earned now.")
    detail: str = Field(examples=["no points: 3 facebook shares already earned points today"])


class FiguresOut(BaseModel):
    clicks: int
    unique_clicks: int = Field(description="Distinct visitors, counted per UTC day.")
    signups: int
    orders: int
    revenue: str = Field(description="Attributed order totals less their refunds.")


class MemberShareOut(LinkOut, FiguresOut):
    pass


class MemberSharePage(Page):
    items: list[MemberShareOut]


class PlatformSummary(FiguresOut):
    platform: Platform
    links: int
    shares: int
    points: int
    rejected_signups: int


class SummaryOut(BaseModel):
    platforms: list[PlatformSummary]


def figures_of(figures: figures_repo.Figures) -> dict[str, object]:
    return {
        "clicks": figures.clicks,
        "unique_clicks": figures.unique_clicks,
        "signups": figures.signups,
        "orders": figures.orders,
        "revenue": str(figures.revenue),
    }
