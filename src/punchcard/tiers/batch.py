"""Tiers on the careful fast path: upgrades and renewals for a whole batch of earning events in
a constant number of round trips, deciding exactly what the one-by-one path decides.

The fast path reads the batch's stored tiers with its other reads (under the balance locks),
then `measure` asks for the metric of every event's window over what was in the database
before the batch, in one statement. Walking the events in order, `after` adds what the batch
itself has earned or spent so far in each window, so an event sees the events before it, as
on the general path, where each is written before the next is measured. The rows go out with
the batch's other rows (`write`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from punchcard.rawsql import Raw
from punchcard.tiers import domain
from punchcard.tiers import repository as repo
from punchcard.tiers.domain import Change, Held, Metric, Policy
from punchcard.tiers.service import multiplier_of

TIER_CHANGE_COLUMNS = (
    "id", "program_id", "member_id", "change", "from_tier", "to_tier", "metric_value",
    "valid_until", "reason", "occurred_at", "created_at",
)  # fmt: skip
TIER_EVENT_COLUMNS = (
    "program_id", "member_id", "source_id", "type", "occurred_at", "channel", "store_id",
    "data", "created_at",
)  # fmt: skip
_UPSERT = (
    "INSERT INTO member_tiers (program_id, member_id, tier, since, valid_until, granted, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (program_id, member_id) DO UPDATE "
    "SET tier = excluded.tier, since = excluded.since, valid_until = excluded.valid_until, "
    "granted = excluded.granted, updated_at = excluded.updated_at"
)
_DELETE = "DELETE FROM member_tiers WHERE program_id = ? AND member_id = ?"


@dataclass
class TierBatch:
    program_id: int
    policy: Policy
    stored: dict[int, Held]  # the batch's members' stored tiers, read under their locks
    now: datetime
    change_ids: Iterator[int]
    before: list[Decimal] = field(default_factory=list)  # per measured event: prior metric
    raw: Raw | None = None  # set by `measure`: a member's catch-up asks for more metrics
    last_id: int = 0  # the last tier change id handed out
    done: dict[int, list[tuple[datetime, Decimal]]] = field(default_factory=dict)
    saved: dict[int, Held] = field(default_factory=dict)  # member -> tier to store
    changes: list[tuple[int, int, Change]] = field(default_factory=list)

    def held(self, member_id: int) -> Held:
        if member_id in self.saved:
            return self.saved[member_id]
        return domain.held_or_base(self.policy, self.stored.get(member_id))

    def tier_of(self, member_id: int, occurred_at: datetime) -> tuple[str | None, Decimal | None]:
        """The tier an event of this member earns at, and its multiplier: the one held when it
        happened. Periods the clock has ended are judged first (as the job would have); a
        late event, dated before the member reached the tier held now, asks the history."""
        current = self.held(member_id)
        judged_by = min(occurred_at, self.now)
        if domain.due(self.policy, current, judged_by):
            current = self._catch_up(member_id, current, judged_by)
        name = current.tier
        if current.since is not None and occurred_at < current.since:
            name = self._tier_at(member_id, occurred_at)
        return name, multiplier_of(self.policy, name)

    def _tier_at(self, member_id: int, at: datetime) -> str | None:
        own = [c for _, m, c in self.changes if m == member_id and c.occurred_at <= at]
        if own:
            return max(own, key=lambda c: c.occurred_at).to_tier
        assert self.raw is not None
        found, name = repo.tier_at(self.raw, self.program_id, member_id, at)
        return name if found else self.policy.base

    def measure(self, raw: Raw, events: list[tuple[int, datetime]]) -> None:
        """The metric of each (member, occurred at) over the rows written before the batch;
        `after` then takes the events in this order."""
        spans = [(m, *domain.span_at(self.policy.window, at)) for m, at in events]
        self.raw = raw
        self.before = repo.metrics(raw, self.program_id, self.policy.metric, spans)

    def after(
        self,
        position: int,
        member_id: int,
        occurred_at: datetime,
        cause: str,
        *,
        spent: Decimal,
        earned: int,
    ) -> None:
        """The event at `position` of `measure`'s list is planned: count it, and upgrade or
        renew the member as its metric says."""
        own = spent if self.policy.metric is Metric.SPEND else Decimal(earned)
        history = self.done.setdefault(member_id, [])
        if own:
            history.append((occurred_at, own))
        current = self.held(member_id)
        judged_by = min(occurred_at, self.now)  # as `service.after_earning`
        if domain.due(self.policy, current, judged_by):
            current = self._catch_up(member_id, current, judged_by)
        lo, hi = domain.span_at(self.policy.window, occurred_at)
        value = self.before[position] + self._own(member_id, lo, hi)
        change = domain.at_event(self.policy, current, value, occurred_at, cause)
        if change is not None:
            self.saved[member_id] = domain.apply(current, change)
            self.changes.append((self._next_id(), member_id, change))

    def _own(self, member_id: int, lo: datetime | None, hi: datetime) -> Decimal:
        """What the batch itself has counted so far for the member in [lo, hi)."""
        history = self.done.get(member_id, [])
        return sum((v for at, v in history if (lo is None or at >= lo) and at < hi), Decimal(0))

    def _catch_up(self, member_id: int, current: Held, moment: datetime) -> Held:
        """The periods that ended by `moment`, judged as `service.catch_up` judges them (the
        rare member whose period ended before the job ran costs a statement per period)."""
        assert self.raw is not None
        raw = self.raw

        def metric_at(boundary: datetime) -> Decimal:
            lo, hi = domain.span_closing(self.policy.window, boundary)
            (prior,) = repo.metrics(raw, self.program_id, self.policy.metric, [(member_id, lo, hi)])
            return prior + self._own(member_id, lo, hi)

        current, changes = domain.catch_up(self.policy, current, moment, metric_at)
        for change in changes:
            self.changes.append((self._next_id(), member_id, change))
        self.saved[member_id] = current
        return current

    def _next_id(self) -> int:
        """The ids drawn with the batch's reads (one per event), then, for catch-ups that
        need more, fresh ones: the sequence's on PostgreSQL, the next integers on SQLite
        (whose single writer holds the database until the batch commits)."""
        found = next(self.change_ids, None)
        if found is None:
            assert self.raw is not None
            if self.raw.postgres:
                (found,) = self.raw.drawn_ids(self.raw.ids_cursor("tier_changes", 1), 1)
            else:
                found = self.last_id + 1
        self.last_id = found
        return found

    def write(self, raw: Raw) -> None:
        """The tiers, history and tier events, after the batch's own events (SQLite numbers
        the tier events after them)."""
        moment = raw.moment
        raw.many(
            _UPSERT,
            [
                (self.program_id, m, h.tier, moment(h.since), moment(h.valid_until), h.granted,
                 moment(self.now))
                for m, h in sorted(self.saved.items()) if h.tier is not None
            ],
        )  # fmt: skip
        raw.many(  # a catch-up that left a member without a tier (no base tier): no row
            _DELETE,
            [(self.program_id, m) for m, h in sorted(self.saved.items()) if h.tier is None],
        )
        rows: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for change_id, member_id, change in self.changes:
            values = repo.change_values(change)
            rows.append(
                (change_id, self.program_id, member_id, values["change"], values["from_tier"],
                 values["to_tier"], values["metric_value"], moment(values["valid_until"]),
                 values["reason"], moment(values["occurred_at"]), moment(self.now))
            )  # fmt: skip
            if change.event is not None:
                event = repo.event_values(change_id, change, self.now)
                events.append(
                    (self.program_id, member_id, event["source_id"], event["type"],
                     moment(event["occurred_at"]), event["channel"], event["store_id"],
                     event["data"], moment(self.now))
                )  # fmt: skip
        raw.insert("tier_changes", TIER_CHANGE_COLUMNS, rows)
        raw.insert("events", TIER_EVENT_COLUMNS, events)
