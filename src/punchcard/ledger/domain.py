"""Pure ledger rules: accounts, postings, lot consumption order, debt. No I/O here.

Sign convention: a posting adds its amount to its account. Member `available` and `pending`
hold positive balances; program accounts mirror them, so `issued` goes negative as points are
issued. Member `debt` is the one member account that holds a negative balance: it records
points a member owes after a reversal of points already spent; the stored `debt` column is its
magnitude. Every transaction's postings sum to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from punchcard.kit.hashing import canonical_json, canonical_plain, printable_ascii, sha256_hex

MAX_POINTS = 10**12


class Account(StrEnum):
    AVAILABLE = "member:available"
    PENDING = "member:pending"
    DEBT = "member:debt"
    ISSUED = "program:issued"
    REDEEMED = "program:redeemed"
    DONATED = "program:donated"
    EXPIRED = "program:expired"
    ADJUSTED = "program:adjusted"


class Kind(StrEnum):
    EARN = "earn"
    ADJUST_CREDIT = "adjust_credit"
    ADJUST_DEBIT = "adjust_debit"
    SPEND = "spend"
    DONATE = "donate"
    EXPIRE = "expire"
    RELEASE = "release"
    REVERSAL = "reversal"


CREDIT_KINDS = frozenset({Kind.EARN, Kind.ADJUST_CREDIT})
DEBIT_KINDS = frozenset({Kind.SPEND, Kind.DONATE, Kind.ADJUST_DEBIT})
REVERSIBLE_KINDS = CREDIT_KINDS | DEBIT_KINDS

# The program account on the other side of each kind of member movement.
COUNTER_ACCOUNT = {
    Kind.EARN: Account.ISSUED,
    Kind.ADJUST_CREDIT: Account.ADJUSTED,
    Kind.ADJUST_DEBIT: Account.ADJUSTED,
    Kind.SPEND: Account.REDEEMED,
    Kind.DONATE: Account.DONATED,
    Kind.EXPIRE: Account.EXPIRED,
}


class LedgerRuleError(Exception):
    """A plan that would break a ledger rule; the service turns it into an API error."""


@dataclass(frozen=True)
class Posting:
    account: Account
    amount: int


@dataclass(frozen=True)
class LotView:
    id: int
    remaining: int
    earned_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class BalanceDelta:
    available: int = 0
    pending: int = 0
    debt: int = 0
    lifetime_earned: int = 0


@dataclass(frozen=True)
class BalanceView:
    available: int
    pending: int
    debt: int

    def after(self, delta: BalanceDelta) -> BalanceView:
        return BalanceView(
            self.available + delta.available, self.pending + delta.pending, self.debt + delta.debt
        )


@dataclass
class Plan:
    """Everything one ledger transaction writes, decided before any row is touched."""

    kind: Kind
    points: int
    postings: list[Posting]
    lot_moves: list[tuple[int, int]] = field(default_factory=list)
    new_lot_points: int = 0
    lifetime_delta: int = 0

    def delta(self) -> BalanceDelta:
        available = pending = debt = 0  # the member's accounts; the program's are not kept
        for posting in self.postings:
            if posting.account is Account.AVAILABLE:
                available += posting.amount
            elif posting.account is Account.PENDING:
                pending += posting.amount
            elif posting.account is Account.DEBT:
                debt += posting.amount
        return BalanceDelta(
            available=available, pending=pending, debt=-debt, lifetime_earned=self.lifetime_delta
        )


def postings(*legs: tuple[Account, int]) -> list[Posting]:
    """Postings without zero legs; refuses an unbalanced set."""
    result = [Posting(account, amount) for account, amount in legs if amount != 0]
    if sum(p.amount for p in result) != 0:
        raise LedgerRuleError(f"unbalanced postings: {result}")
    return result


def consumption_key(lot: LotView) -> tuple[bool, datetime, datetime, int]:
    """Nearest expiry first, never-expiring last, then oldest first."""
    expires = lot.expires_at if lot.expires_at is not None else lot.earned_at
    return (lot.expires_at is None, expires, lot.earned_at, lot.id)


def plan_consumption(lots: Iterable[LotView], amount: int) -> list[tuple[int, int]]:
    """Which lots a debit of `amount` takes from, as (lot id, negative amount) moves."""
    moves: list[tuple[int, int]] = []
    left = amount
    for lot in sorted(lots, key=consumption_key):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            moves.append((lot.id, -take))
            left -= take
    if left:
        raise LedgerRuleError(f"lots hold {amount - left} of the {amount} points to take")
    return moves


def split_credit(points: int, debt: int) -> tuple[int, int]:
    """New points pay off debt first: (to debt, to available)."""
    to_debt = min(points, debt)
    return to_debt, points - to_debt


def plan_credit(kind: Kind, points: int, balance: BalanceView, *, pending: bool) -> Plan:
    counter = COUNTER_ACCOUNT[kind]
    if pending:
        legs = postings((Account.PENDING, points), (counter, -points))
        return Plan(kind, points, legs, lifetime_delta=points)
    to_debt, to_available = split_credit(points, balance.debt)
    legs = postings((Account.DEBT, to_debt), (Account.AVAILABLE, to_available), (counter, -points))
    return Plan(kind, points, legs, new_lot_points=to_available, lifetime_delta=points)


def plan_debit(kind: Kind, points: int, balance: BalanceView, lots: Sequence[LotView]) -> Plan:
    moves = plan_consumption(lots, points)
    legs = postings((Account.AVAILABLE, -points), (COUNTER_ACCOUNT[kind], points))
    return Plan(kind, points, legs, lot_moves=moves)


def plan_expiry(due: Sequence[LotView]) -> Plan | None:
    total = sum(lot.remaining for lot in due)
    if total == 0:
        return None
    legs = postings((Account.AVAILABLE, -total), (Account.EXPIRED, total))
    moves = [(lot.id, -lot.remaining) for lot in due if lot.remaining > 0]
    return Plan(Kind.EXPIRE, total, legs, lot_moves=moves)


def plan_release(points: int, balance: BalanceView) -> Plan:
    to_debt, to_available = split_credit(points, balance.debt)
    legs = postings(
        (Account.PENDING, -points), (Account.DEBT, to_debt), (Account.AVAILABLE, to_available)
    )
    return Plan(Kind.RELEASE, points, legs, new_lot_points=to_available)


def plan_credit_reversal(
    original_kind: Kind,
    amount: int,
    *,
    still_pending: bool,
    own_lots: Sequence[LotView],
    other_lots: Sequence[LotView],
    own_expired: int = 0,
) -> Plan:
    """Take back credited points from wherever they are now, in this order: still pending;
    left in the credit's own lot; expired from that lot unspent (written back from the expired
    account, at no cost to the member, who never had the use of them); other lots; and what
    the member already spent becomes debt."""
    counter = COUNTER_ACCOUNT[original_kind]
    if still_pending:
        legs = postings((Account.PENDING, -amount), (counter, amount))
        return Plan(Kind.REVERSAL, amount, legs, lifetime_delta=-amount)
    from_own = min(amount, sum(lot.remaining for lot in own_lots))
    moves = plan_consumption(own_lots, from_own) if from_own else []
    from_expired = min(amount - from_own, own_expired)
    from_other = min(amount - from_own - from_expired, sum(lot.remaining for lot in other_lots))
    if from_other:
        moves += plan_consumption(other_lots, from_other)
    to_debt = amount - from_own - from_expired - from_other
    legs = postings(
        (Account.AVAILABLE, -(from_own + from_other)),
        (Account.EXPIRED, -from_expired),
        (Account.DEBT, -to_debt),
        (counter, amount),
    )
    return Plan(Kind.REVERSAL, amount, legs, lot_moves=moves, lifetime_delta=-amount)


def plan_debit_reversal(
    original_kind: Kind, amount: int, balance: BalanceView, restorable: Sequence[tuple[int, int]]
) -> Plan:
    """Give back debited points: debt is paid first, the rest returns to the lots it came from
    (the last consumed first). `restorable` lists (lot id, points still restorable) in
    consumption order."""
    to_debt, to_lots = split_credit(amount, balance.debt)
    if to_lots > sum(points for _, points in restorable):
        raise LedgerRuleError("more points to restore than the original debit took")
    moves: list[tuple[int, int]] = []
    left = to_lots
    for lot_id, points in reversed(restorable):
        if left == 0:
            break
        give = min(points, left)
        if give > 0:
            moves.append((lot_id, give))
            left -= give
    legs = postings(
        (Account.DEBT, to_debt),
        (Account.AVAILABLE, to_lots),
        (COUNTER_ACCOUNT[original_kind], -amount),
    )
    return Plan(Kind.REVERSAL, amount, legs, lot_moves=moves)


def transaction_digest(
    *,
    program_id: int,
    member_id: int,
    kind: str,
    points: int,
    reason: str,
    reference: str | None,
    reverses_id: int | None,
    occurred_at: datetime,
    legs: Iterable[tuple[str, int]],
) -> str:
    """A fingerprint of a transaction and its postings, so `ledger verify` can tell when a
    journal row was edited behind the engine's back."""
    postings = sorted((str(account), int(amount)) for account, amount in legs)
    body = {
        "program_id": program_id,
        "member_id": member_id,
        "kind": kind,
        "points": points,
        "reason": reason,
        "reference": reference,
        "reverses_id": reverses_id,
        "occurred_at": occurred_at.isoformat(),
        "postings": postings,
    }
    # Every earned point passes here: the fast encoding, unless some text needs escaping.
    plain = printable_ascii(kind + reason + (reference or "")) and all(
        printable_ascii(account) for account, _ in postings
    )
    return sha256_hex(canonical_plain(body) if plain else canonical_json(body))
