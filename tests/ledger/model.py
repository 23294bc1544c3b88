"""An in-memory model of one member's ledger, written independently of the engine's planner,
for the property-based test to compare against."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

EXPIRY = timedelta(days=30)
PENDING = timedelta(days=7)


@dataclass
class MLot:
    seq: int
    remaining: int
    earned_at: datetime
    expires_at: datetime
    source: int  # the transaction whose credit (or release) created it
    expired: int = 0


@dataclass
class MPending:
    remaining: int
    release_at: datetime
    released_by: int | None = None
    voided: bool = False


@dataclass
class MTx:
    kind: str
    points: int
    reversed: int = 0
    consumed: list[tuple[int, int]] = field(default_factory=list)  # (lot seq, points)
    restored: dict[int, int] = field(default_factory=dict)
    written_back: int = 0  # expired points of its own lots that reversals took back


class RefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Model:
    now: datetime
    available: int = 0
    pending: int = 0
    debt: int = 0
    lifetime: int = 0
    lots: list[MLot] = field(default_factory=list)
    pendings: dict[int, MPending] = field(default_factory=dict)
    txs: dict[int, MTx] = field(default_factory=dict)
    next_seq: int = 0
    hidden_txs: int = 0  # expiries the engine writes inside a spend or reversal

    def overdue(self) -> int:
        return sum(lot.remaining for lot in self.lots if lot.expires_at <= self.now)

    def expire_due(self) -> int:
        expired = 0
        for lot in self.lots:
            if lot.remaining and lot.expires_at <= self.now:
                expired += lot.remaining
                lot.expired += lot.remaining
                lot.remaining = 0
        self.available -= expired
        return expired

    def _order(self, lots: list[MLot]) -> list[MLot]:
        return sorted(lots, key=lambda lot: (lot.expires_at, lot.earned_at, lot.seq))

    def _new_lot(self, points: int, at: datetime, source: int) -> None:
        to_debt = min(points, self.debt)
        self.debt -= to_debt
        rest = points - to_debt
        if rest:
            self.lots.append(MLot(self.next_seq, rest, at, at + EXPIRY, source))
            self.next_seq += 1
            self.available += rest

    def _take(self, lots: list[MLot], amount: int) -> list[tuple[int, int]]:
        taken = []
        for lot in self._order([lot for lot in lots if lot.remaining > 0]):
            if amount == 0:
                break
            take = min(lot.remaining, amount)
            lot.remaining -= take
            amount -= take
            taken.append((lot.seq, take))
        assert amount == 0
        return taken

    # -- operations, each given the engine's transaction id when it succeeded --------------
    def credit(self, tx: int, points: int, *, pending: bool, kind: str) -> None:
        self.txs[tx] = MTx(kind, points)
        self.lifetime += points
        if pending:
            self.pending += points
            self.pendings[tx] = MPending(points, self.now + PENDING)
        else:
            self._new_lot(points, self.now, tx)

    def check_debit(self, points: int, *, spend: bool) -> None:
        if spend and self.debt > 0:
            raise RefusedError("debt_outstanding")
        if points > self.available - self.overdue():
            raise RefusedError("insufficient_points")

    def debit(self, tx: int, points: int, kind: str) -> None:
        if self.expire_due():
            self.hidden_txs += 1
        self.txs[tx] = MTx(kind, points, consumed=self._take(self.lots, points))
        self.available -= points

    def check_reversal(self, original: int, points: int | None) -> int:
        tx = self.txs[original]
        if tx.kind not in ("earn", "adjust_credit", "spend", "adjust_debit"):
            raise RefusedError("not_reversible")
        left = tx.points - tx.reversed
        if left == 0:
            raise RefusedError("already_reversed")
        amount = left if points is None else points
        if amount > left:
            raise RefusedError("reversal_exceeds_original")
        return amount

    def reverse(self, tx_id: int, original: int, amount: int) -> None:
        if self.expire_due():
            self.hidden_txs += 1
        self._reverse(tx_id, original, amount)
        if self.txs[original].kind in ("spend", "adjust_debit") and self.expire_due():
            self.hidden_txs += 1

    def _reverse(self, tx_id: int, original: int, amount: int) -> None:
        tx = self.txs[original]
        tx.reversed += amount
        self.txs[tx_id] = MTx("reversal", amount)
        if tx.kind in ("earn", "adjust_credit"):
            self.lifetime -= amount
            entry = self.pendings.get(original)
            if entry is not None and entry.released_by is None and not entry.voided:
                entry.remaining -= amount
                entry.voided = entry.remaining == 0
                self.pending -= amount
                return
            sources = {original} | ({entry.released_by} if entry and entry.released_by else set())
            own = [lot for lot in self.lots if lot.source in sources]
            from_own = min(amount, sum(lot.remaining for lot in own))
            self._take(own, from_own)
            expired = sum(lot.expired for lot in own) - tx.written_back
            from_expired = min(amount - from_own, expired)
            tx.written_back += from_expired
            others = [lot for lot in self.lots if lot.source not in sources]
            from_others = min(
                amount - from_own - from_expired, sum(lot.remaining for lot in others)
            )
            self._take(others, from_others)
            self.available -= from_own + from_others
            self.debt += amount - from_own - from_expired - from_others
            return
        to_debt = min(amount, self.debt)
        self.debt -= to_debt
        left = amount - to_debt
        self.available += left
        by_seq = {lot.seq: lot for lot in self.lots}
        for seq, took in reversed(tx.consumed):
            if left == 0:
                break
            give = min(took - tx.restored.get(seq, 0), left)
            if give > 0:
                by_seq[seq].remaining += give
                tx.restored[seq] = tx.restored.get(seq, 0) + give
                left -= give

    def run_jobs(self, release_ids: list[int], expire_id: int | None) -> None:
        """Release due pending credits (the engine's release transaction ids given in order),
        then expire due lots."""
        due = sorted(
            (e.release_at, tx)
            for tx, e in self.pendings.items()
            if e.released_by is None and not e.voided and e.release_at <= self.now
        )
        assert len(due) == len(release_ids), (due, release_ids)
        for (release_at, tx), release_tx in zip(due, release_ids, strict=True):
            entry = self.pendings[tx]
            entry.released_by = release_tx
            self.pending -= entry.remaining
            self.txs[release_tx] = MTx("release", entry.remaining)
            self._new_lot(entry.remaining, release_at, release_tx)
            entry.remaining = 0
        expired = self.expire_due()
        assert (expire_id is None) == (expired == 0)
        if expire_id is not None:
            self.txs[expire_id] = MTx("expire", expired)

    def open_lots(self) -> list[int]:
        return sorted(lot.remaining for lot in self.lots if lot.remaining > 0)
