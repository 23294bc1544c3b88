"""Member use cases: idempotent enrolment, lookups by any identifier, profile changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.errors import ConflictError, InvalidInputError
from punchcard.kit import luhn
from punchcard.ledger import service as ledger
from punchcard.ledger.errors import MemberNotFoundError
from punchcard.members import repository as repo
from punchcard.members.domain import (
    Channel,
    IdentifierError,
    check_birthday,
    new_card_number,
    new_qr_token,
    normalise_email,
    normalise_phone,
)
from punchcard.members.repository import MemberRow

LOOKUP_FIELDS = ("external_id", "email", "phone", "card_number", "qr_token")


class InvalidIdentifierError(InvalidInputError):
    code = "invalid_identifier"


def _clean(field: str, value: Any, today: date) -> Any:
    if value is None:
        return None
    try:
        if field == "email":
            return normalise_email(value)
        if field == "phone":
            return normalise_phone(value)
        if field == "birthday":
            return check_birthday(value, today)
        if field == "card_number":
            digits = "".join(value.replace("-", " ").split())
            if not luhn.is_valid(digits):
                raise IdentifierError("card number is mistyped: its check digit does not match")
            return digits
    except IdentifierError as exc:
        raise InvalidIdentifierError(str(exc), details={"field": field}) from exc
    return value


def enrol(
    session: Session,
    *,
    program_id: int,
    external_id: str,
    now: datetime,
    channel: Channel = Channel.OTHER,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    birthday: date | None = None,
) -> tuple[MemberRow, bool]:
    """Enrol once per `external_id`: a repeat returns the existing member and False."""
    external_id = external_id.strip()
    if not external_id:
        raise InvalidIdentifierError(
            "external_id must not be empty", details={"field": "external_id"}
        )
    existing = repo.find_one(session, program_id, external_id=external_id)
    if existing is not None:
        return existing, False
    values = {
        "program_id": program_id,
        "external_id": external_id,
        "email": _clean("email", email, now.date()),
        "phone": _clean("phone", phone, now.date()),
        "name": name,
        "birthday": _clean("birthday", birthday, now.date()),
        "channel": channel.value,
        "created_at": now,
        "updated_at": now,
    }
    for _ in range(5):
        written = repo.insert_if_new(
            session, {**values, "card_number": new_card_number(), "qr_token": new_qr_token()}
        )
        member = repo.find_one(session, program_id, external_id=external_id)
        if member is not None:
            if written:
                ledger.open_account(session, program_id=program_id, member_id=member.id)
            return member, written
    raise ConflictError("could not allocate a unique card number; try again", code="card_collision")


def get(session: Session, *, program_id: int, member_id: int) -> MemberRow:
    member = repo.find_one(session, program_id, id=member_id)
    if member is None:
        raise MemberNotFoundError(f"member {member_id} not found", details={"member_id": member_id})
    return member


def search(
    session: Session, *, program_id: int, filters: dict[str, str], after_id: int, limit: int
) -> list[MemberRow]:
    today = datetime.now().date()
    cleaned = {field: _clean(field, value, today) for field, value in filters.items()}
    return repo.page(session, program_id, cleaned, after_id, limit)


def update(
    session: Session, *, program_id: int, member_id: int, changes: dict[str, Any], now: datetime
) -> MemberRow:
    get(session, program_id=program_id, member_id=member_id)
    values = {field: _clean(field, value, now.date()) for field, value in changes.items()}
    if "channel" in values and isinstance(values["channel"], Channel):
        values["channel"] = values["channel"].value
    if values:
        repo.update_member(session, program_id, member_id, {**values, "updated_at": now})
    return get(session, program_id=program_id, member_id=member_id)


def set_preferences(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    now: datetime,
    locale: str | None = None,
    marketing_consent: bool | None = None,
) -> MemberRow:
    """The member's own choices (the portal's language, marketing consent); an argument left
    None stays as it is. The caller checks the language is one it offers."""
    get(session, program_id=program_id, member_id=member_id)
    values: dict[str, Any] = {}
    if locale is not None:
        values["locale"] = locale
    if marketing_consent is not None:
        values["marketing_consent"] = marketing_consent
    if values:
        repo.update_member(session, program_id, member_id, {**values, "updated_at": now})
    return get(session, program_id=program_id, member_id=member_id)


def enrol_many(
    session: Session,
    *,
    program_id: int,
    external_ids: list[str],
    now: datetime,
    enrolled_at: dict[str, datetime] | None = None,
) -> dict[str, int]:
    """Member ids for these external ids, enrolling the unknown ones in two statements (for
    imports). Racing enrolments of the same customer still end with one member."""
    wanted = sorted({e.strip() for e in external_ids if e.strip()})
    known = repo.ids_by_external_id(session, program_id, wanted)
    missing = [e for e in wanted if e not in known]
    if missing:
        repo.insert_many_if_new(
            session,
            [
                {
                    "program_id": program_id,
                    "external_id": external_id,
                    "email": None,
                    "phone": None,
                    "name": None,
                    "birthday": None,
                    "channel": Channel.OTHER.value,
                    "card_number": new_card_number(),
                    "qr_token": new_qr_token(),
                    "created_at": (enrolled_at or {}).get(external_id, now),
                    "updated_at": (enrolled_at or {}).get(external_id, now),
                }
                for external_id in missing
            ],
        )
        created = repo.ids_by_external_id(session, program_id, missing)
        ledger.open_accounts(session, program_id=program_id, member_ids=sorted(created.values()))
        known.update(created)
        for external_id in missing:  # a card number collision skipped the row: one by one
            if external_id not in known:
                member, _ = enrol(session, program_id=program_id, external_id=external_id, now=now)
                known[external_id] = member.id
    return known


def find_ids(session: Session, *, program_id: int, external_ids: list[str]) -> dict[str, int]:
    return repo.ids_by_external_id(session, program_id, sorted(set(external_ids)))
