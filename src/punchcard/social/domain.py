"""Social sharing's rules as plain values: the settings, tokens, the links a platform shares,
where a click goes, when a share earns, and when a sign-up or an order counts for the sharer."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


class Platform(StrEnum):
    FACEBOOK = "facebook"
    X = "x"
    WHATSAPP = "whatsapp"
    INSTAGRAM = "instagram"
    LINKEDIN = "linkedin"
    PINTEREST = "pinterest"
    TELEGRAM = "telegram"
    EMAIL = "email"
    SMS = "sms"
    COPY = "copy"


class EarnOn(StrEnum):
    SHARE = "share"  # a recorded share earns at once
    CLICK = "click"  # a recorded share earns at its link's first click, if ever


class EarnStatus(StrEnum):
    """Where a link stands with its points; the share answer says which, and why 0."""

    EARNED = "earned"
    AWAITING_CLICK = "awaiting_click"
    DAILY_CAP_REACHED = "daily_cap_reached"
    NO_POINTS = "no_points"


class Rejection(StrEnum):
    """Why a sign-up through a share link was not attributed to the sharer."""

    SELF_SHARE = "self_share"
    NOT_NEW = "not_new"
    NO_CLICK = "no_click"
    CLICK_TOO_OLD = "click_too_old"


@dataclass(frozen=True)
class SocialSettings:
    active: bool = False
    points_per_share: int = 10
    daily_cap_per_platform: int = 3
    earn_on: EarnOn = EarnOn.SHARE
    platforms: tuple[Platform, ...] = tuple(Platform)
    target_url: str | None = None
    utm_campaign: str = "loyalty_share"
    attribution_days: int = 30


# --- tokens and links ----------------------------------------------------------------------

# Lower case, without 0/o, 1/l/i and u: nothing to misread when a link is read out or typed.
TOKEN_ALPHABET = "23456789abcdefghjkmnpqrstvwxyz"  # noqa: S105 (an alphabet, not a secret)
TOKEN_LENGTH = 10  # 30**10: about 49 random bits
_TOKEN = re.compile(f"^[{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}}$")


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def is_token(text: str) -> bool:
    """Anything else cannot name a link: answered 404 without asking the database."""
    return bool(_TOKEN.match(text))


def target_hash(url: str) -> str:
    """The key of a link's target: URLs are too long for a portable unique index."""
    return hashlib.sha256(url.encode()).hexdigest()


def link_of(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + "/s/" + token


_INTENTS: dict[Platform, tuple[str, str]] = {
    Platform.FACEBOOK: ("web", "https://www.facebook.com/sharer/sharer.php?u={}"),
    Platform.X: ("web", "https://x.com/intent/post?url={}"),
    Platform.WHATSAPP: ("web", "https://wa.me/?text={}"),
    Platform.LINKEDIN: ("web", "https://www.linkedin.com/sharing/share-offsite/?url={}"),
    Platform.PINTEREST: ("web", "https://www.pinterest.com/pin/create/button/?url={}"),
    Platform.TELEGRAM: ("web", "https://t.me/share/url?url={}"),
    Platform.EMAIL: ("mailto", "mailto:?body={}"),
    Platform.SMS: ("sms", "sms:?&body={}"),
}


def share_urls(platform: Platform, link: str) -> dict[str, str]:
    """The page that opens the platform's share dialog with the link; none for Instagram
    (no web share dialog) or copy (the member pastes the link themselves)."""
    intent = _INTENTS.get(platform)
    if intent is None:
        return {}
    kind, template = intent
    return {kind: template.format(quote(link, safe=""))}


OUR_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "pc_share")


def redirect_url(target: str, *, platform: str, campaign: str, token: str) -> str:
    """The target with the UTM parameters and `pc_share` (for the store to pass back at
    sign-up); the target's own parameters and fragment stay, ours replace same-named ones."""
    parts = urlsplit(target)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in kept if k not in OUR_PARAMETERS]
    ours = [
        ("utm_source", platform),
        ("utm_medium", "social"),
        ("utm_campaign", campaign),
        ("pc_share", token),
    ]
    return urlunsplit(parts._replace(query=urlencode(kept + ours)))


# A DNS name or an IPv4 address in ASCII (punycode for international names), and a port.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NETLOC = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?$")


def safe_url(url: str) -> str | None:
    """The URL rebuilt from its parsed parts, or None when a browser might not go where this
    parser says. Python's urlsplit and browsers (WHATWG URL) disagree on some inputs: a
    browser reads `\\` as `/`, so `https://evil.example\\@shop.example.com/` parses here as
    host shop.example.com but takes a browser to evil.example. So: http(s) only, no `\\` or
    control characters anywhere, and an authority that is exactly host[:port] (no userinfo,
    no IPv6 literal, no percent-encoding, no empty or out-of-range port)."""
    if "\\" in url or any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return None
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if scheme not in ("http", "https") or not _NETLOC.match(netloc):
        return None
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def target_allowed(target: str, default_target: str | None) -> bool:
    """Shared pages must be safe URLs on the host of the program's target_url or a subdomain
    of it, so a share link is never an open redirect to someone else's site. Without a
    target_url nothing is allowed (active sharing always has one)."""
    if default_target is None or safe_url(target) is None or safe_url(default_target) is None:
        return False
    home, host = host_of(default_target), host_of(target)
    return host == home or host.endswith("." + home)


# --- clicks --------------------------------------------------------------------------------

_BOTS = re.compile(
    r"bot|crawl|spider|preview|facebookexternalhit|facebookcatalog|embedly|vkshare|headless|"
    r"^whatsapp/|^curl/|^wget/|^python|^go-http-client|^okhttp|^java/|httpclient",
    re.IGNORECASE,
)


def is_bot(user_agent: str | None) -> bool:
    """Link previewers fetch a link when it is posted: their fetches are no one's click.
    (A missing user agent is a script, not a browser.)"""
    return not user_agent or bool(_BOTS.search(user_agent))


def new_salt() -> str:
    return secrets.token_hex(32)


def visitor_hash(salt: str, address: str | None, user_agent: str | None) -> str:
    """One visitor on one day for one program: with the salt replaced each day, the hash
    cannot be linked back to the address once the day is over."""
    raw = f"{salt}\n{address or ''}\n{user_agent or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()


# --- earning -------------------------------------------------------------------------------


def share_outcome(settings: SocialSettings, earned_that_day: int) -> EarnStatus:
    """What recording a share (earn_on share) or a first click (earn_on click) gives."""
    if settings.points_per_share == 0:
        return EarnStatus.NO_POINTS
    if earned_that_day >= settings.daily_cap_per_platform:
        return EarnStatus.DAILY_CAP_REACHED
    return EarnStatus.EARNED


def day_of(moment: datetime) -> date:
    return moment.date()  # moments are UTC throughout


# --- attribution ---------------------------------------------------------------------------


def signup_rejection(
    *,
    sharer_id: int,
    member_id: int,
    created: bool,
    last_click: datetime | None,
    now: datetime,
    attribution_days: int,
) -> Rejection | None:
    """None when the sign-up counts for the sharer: a new member who came within the window
    after a click on the link. A member cannot come through their own link."""
    if sharer_id == member_id:
        return Rejection.SELF_SHARE
    if not created:
        return Rejection.NOT_NEW
    if last_click is None:
        return Rejection.NO_CLICK
    if now - last_click > timedelta(days=attribution_days):
        return Rejection.CLICK_TOO_OLD
    return None


def order_in_window(signed_up_at: datetime, ordered_at: datetime, attribution_days: int) -> bool:
    return signed_up_at <= ordered_at <= signed_up_at + timedelta(days=attribution_days)
