"""Referral rules as plain values: settings and their checks, codes, how signals are
normalised and hashed, and the fraud checks' verdict on a referral."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from punchcard.kit import codes
from punchcard.kit.urls import is_web_url

CODE_LENGTH = 8  # 40 random bits: unguessable enough for a code that only earns on an order
MAX_POINTS = 1_000_000
MAX_LIMIT = 1_000_000
MAX_TEMPLATE = 500
WEEK_DAYS = 7
# Providers that ignore dots in the local part; everyone else may treat them as meaningful.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


class Status(StrEnum):
    PENDING = "pending"  # clean: rewarded on the referee's first qualifying order
    REVIEW = "review"  # flagged by a fraud check: nothing is given until an admin approves
    REWARDED = "rewarded"
    VOIDED = "voided"  # the qualifying order came back inside its return window
    REJECTED = "rejected"


class Reason(StrEnum):
    """Why a referral was flagged; each is a stable code in the API and the review list."""

    SELF_REFERRAL = "self_referral"
    SELF_REFERRAL_EMAIL = "self_referral_email"
    SELF_REFERRAL_PHONE = "self_referral_phone"
    SELF_REFERRAL_PAYMENT = "self_referral_payment"
    SELF_REFERRAL_DEVICE = "self_referral_device"
    REFEREE_NOT_NEW = "referee_not_new"
    REFERRER_WEEKLY_LIMIT = "referrer_weekly_limit"
    SHARED_DEVICE = "shared_device"
    SHARED_ADDRESS = "shared_address"


class SignalKind(StrEnum):
    DEVICE = "device"
    PAYMENT = "payment"
    ADDRESS = "address"


@dataclass(frozen=True)
class Settings:
    active: bool = False
    referrer_points: int = 0
    referee_points: int = 0
    min_order_total: Decimal = Decimal("0.00")
    link_template: str | None = None
    max_referrals_per_week: int | None = None
    max_referees_per_device: int | None = None
    max_referees_per_address: int | None = None
    updated_at: datetime | None = None


def settings_problem(settings: Settings) -> tuple[str, str] | None:
    """The field at fault and why, or None when the settings make sense."""
    for name in ("referrer_points", "referee_points"):
        if not 0 <= getattr(settings, name) <= MAX_POINTS:
            return name, f"{name} must be between 0 and {MAX_POINTS}"
    if settings.active and settings.referrer_points + settings.referee_points == 0:
        return "referrer_points", "active referrals must give points to at least one side"
    amount = settings.min_order_total
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        return "min_order_total", "min_order_total must be an amount of money, 0 or more"
    for name in ("max_referrals_per_week", "max_referees_per_device", "max_referees_per_address"):
        value = getattr(settings, name)
        if value is not None and not 1 <= value <= MAX_LIMIT:
            return name, f"{name} must be between 1 and {MAX_LIMIT}, or null for no limit"
    template = settings.link_template
    if template is not None:
        if "{code}" not in template:
            return "link_template", "link_template must contain {code}"
        filled = template.replace("{code}", "ABCD2345")
        if not re.match(r"^https?://[^\s/]+", template) or not is_web_url(filled):
            return "link_template", "link_template must be an http(s) URL"
        if len(template) > MAX_TEMPLATE:
            return "link_template", "link_template must be an http(s) URL"
    return None


def new_code() -> str:
    """Crockford base32 (no I, L, O, U): easy to read aloud and to type."""
    return "".join(secrets.choice(codes.ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """What a customer typed, in canonical form; None when it cannot be any code."""
    code = codes.normalise(text)
    if len(code) != CODE_LENGTH or any(char not in codes.ALPHABET for char in code):
        return None
    return code


def link_for(template: str | None, code: str) -> str | None:
    return None if template is None else template.replace("{code}", code)


def canonical_email(email: str | None) -> str | None:
    """One form for addresses that reach one inbox: the `+tag` is dropped everywhere (most
    providers deliver `ann+promo@` to `ann@`), dots only where the provider ignores them."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else None


def canonical_phone(phone: str | None) -> str | None:
    """The digits (and a leading `+`): `+1 (415) 555-0111` and `+14155550111` are one phone."""
    if not phone:
        return None
    text = phone.strip()
    digits = "".join(char for char in text if char.isdigit())
    if not digits:
        return None
    return ("+" if text.startswith("+") else "") + digits


_SPACES = re.compile(r"\s+")
_ADDRESS_NOISE = re.compile(r"[.,;:#'\"()\-]")


def normalise_signal(kind: SignalKind, value: str) -> str:
    """Every kind ignores case and surrounding spaces (`6F96...` and `6f96...` are one device:
    stores and SDKs disagree on the case of UUIDs); addresses also ignore punctuation and
    spacing, so `12 Main St.` and `12 main st` are one address."""
    text = value.strip().casefold()
    if kind is SignalKind.ADDRESS:
        text = _SPACES.sub(" ", _ADDRESS_NOISE.sub(" ", text)).strip()
    return text


def signal_hash(program_id: int, kind: SignalKind, value: str) -> str:
    """Keyed by program and kind: the same card in two programs gives two unrelated hashes.
    Plain SHA-256, so it keeps values from a casual reader of the table, not from a dictionary
    attack on low-entropy values such as addresses (see docs/referrals.md)."""
    raw = f"{program_id}:{kind.value}:{normalise_signal(kind, value)}"
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Party:
    """What the checks know of one side: contact details and signal hashes by kind."""

    member_id: int
    email: str | None
    phone: str | None
    signals: dict[SignalKind, frozenset[str]] = field(default_factory=dict)

    def of(self, kind: SignalKind) -> frozenset[str]:
        return self.signals.get(kind, frozenset())


@dataclass(frozen=True)
class Evidence:
    """Everything the fraud checks look at, gathered by the service."""

    referrer: Party
    referee: Party
    created: bool
    referee_has_orders: bool
    referee_earlier_referrals: int
    referrer_recent_referrals: int
    sharing: dict[SignalKind, list[int]]  # other referees holding one of the referee's hashes


@dataclass
class Verdict:
    reasons: list[Reason] = field(default_factory=list)
    matched: dict[str, Any] = field(default_factory=dict)

    def flag(self, reason: Reason, detail: Any) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
        self.matched[reason.value] = detail

    @property
    def status(self) -> Status:
        return Status.REVIEW if self.reasons else Status.PENDING


_SELF_SIGNALS = (
    (SignalKind.PAYMENT, Reason.SELF_REFERRAL_PAYMENT),
    (SignalKind.DEVICE, Reason.SELF_REFERRAL_DEVICE),
)
_SHARED = (
    (SignalKind.DEVICE, Reason.SHARED_DEVICE, "max_referees_per_device"),
    (SignalKind.ADDRESS, Reason.SHARED_ADDRESS, "max_referees_per_address"),
)


def contact_checks(evidence: Evidence, verdict: Verdict) -> None:
    """The same inbox or phone on both sides. Run at enrolment and again at the qualifying
    order: a referee may add (or change to) the referrer's e-mail after enrolling without one."""
    referrer, referee = evidence.referrer, evidence.referee
    email = canonical_email(referee.email)
    if email is not None and email == canonical_email(referrer.email):
        verdict.flag(Reason.SELF_REFERRAL_EMAIL, {"signal": "email"})
    phone = canonical_phone(referee.phone)
    if phone is not None and phone == canonical_phone(referrer.phone):
        verdict.flag(Reason.SELF_REFERRAL_PHONE, {"signal": "phone"})


def signal_checks(settings: Settings, evidence: Evidence, verdict: Verdict) -> None:
    """The checks on signals, which a referee's later checkout may still trip."""
    referrer, referee = evidence.referrer, evidence.referee
    for kind, reason in _SELF_SIGNALS:
        if referrer.of(kind) & referee.of(kind):
            verdict.flag(reason, {"signal": kind.value})
    for kind, reason, limit_name in _SHARED:
        limit = getattr(settings, limit_name)
        others = evidence.sharing.get(kind, [])
        if limit is not None and len(others) >= limit:
            verdict.flag(
                reason, {"signal": kind.value, "other_referees": others[:20], "limit": limit}
            )


def recheck_checks(settings: Settings, evidence: Evidence, verdict: Verdict) -> None:
    """What may have changed since the enrolment: contact details and signals."""
    contact_checks(evidence, verdict)
    signal_checks(settings, evidence, verdict)


def assess(settings: Settings, evidence: Evidence) -> Verdict:
    """Every fraud check at enrolment; a referral with any reason waits for review."""
    verdict = Verdict()
    contact_checks(evidence, verdict)
    if not evidence.created or evidence.referee_has_orders or evidence.referee_earlier_referrals:
        verdict.flag(
            Reason.REFEREE_NOT_NEW,
            {
                "already_member": not evidence.created,
                "has_orders": evidence.referee_has_orders,
                "earlier_referrals": evidence.referee_earlier_referrals,
            },
        )
    limit = settings.max_referrals_per_week
    if limit is not None and evidence.referrer_recent_referrals >= limit:
        verdict.flag(
            Reason.REFERRER_WEEKLY_LIMIT,
            {"referrals_in_7_days": evidence.referrer_recent_referrals, "limit": limit},
        )
    signal_checks(settings, evidence, verdict)
    return verdict
