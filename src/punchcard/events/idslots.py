"""Blocks of ids for the API's batches on SQLite, so that batches in several server processes
plan at once and only write in turn.

A batch planned before SQLite's write lock (`fastpath.Early`) needs the ids of its new rows
before it may know which ids the writers ahead of it will take. Each batch in flight holds a
*slot* (an advisory lock on one of `SLOTS` files beside the database, held until its commit),
and slot `k` plans with the first block of `SIZE` ids above the largest committed id whose
number is `k` modulo `SLOTS`: batches in flight hold different slots, so their blocks never
overlap, whichever commits first. Ids are then not dense (a block a batch does not fill stays
unused), which nothing relies on.

Under the lock the batch still checks that no row took one of its ids (`IdBlock.taken`: a
single event, or a process without slots, takes the largest id plus one) and is otherwise
planned again there with ids above every block in flight (`IdBlock.above`). A slot that cannot
be had (all `SLOTS` held, or a folder where no file can be made) means planning under the lock,
as before.

A process takes one such batch at a time (`claimed`, `db.batch_turn`): the others wait for its
commit, not for the interpreter's lock. Two batches in one process shared that interpreter lock,
so the one holding SQLite's write lock ran its Python at half speed while the other planned, and
held the write lock, which every process waits for, that much longer; another process plans
meanwhile.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from punchcard.db import Database, batch_turn, lock_path, statements
from punchcard.events.batchstate import IdBlock, tops
from punchcard.events.fastpath import OPTIMISTIC_FROM, Early
from punchcard.rawsql import Raw

# Batches in flight at once that plan before the lock: two server processes with two calls
# each. Slot `k` uses every `SLOTS`-th block, so ids are used this sparsely at worst.
SLOTS = 4
SIZE = 1000  # the largest batch the API takes (`BatchIn`)


@contextmanager
def claimed(db: Database) -> Iterator[int | None]:
    """This process's turn (one large batch at a time, see above), then the lowest free slot,
    both held until the block is left (after the caller's commit). `WriterBusyError` when the turn
    does not come within the busy timeout."""
    base = lock_path(db.engine)
    if base is None:
        yield None
        return
    with batch_turn(db.engine), _slot(base) as slot:
        yield slot


@contextmanager
def _slot(base: str) -> Iterator[int | None]:
    for slot in range(SLOTS):
        try:
            fd = os.open(f"{base}-slot{slot}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield slot
        finally:
            os.close(fd)  # which frees the lock
        return
    yield None


def block(tops: tuple[int, int, int], slot: int) -> IdBlock:
    """Slot `slot`'s block above `tops` (each table's largest committed id)."""
    firsts = []
    for top in tops:
        index = -(-top // SIZE)  # the first block wholly above `top`
        index += (slot - index) % SLOTS
        firsts.append(index * SIZE + 1)
    # A batch in flight read the same ids or fewer, so its block is under this spread.
    return IdBlock((firsts[0], firsts[1], firsts[2]), SIZE, (0, 0, 0), spread=(SLOTS + 1) * SIZE)


@contextmanager
def early(
    db: Database | None, slot: int | None, session: Session, count: int
) -> Iterator[Early | None]:
    """An early plan for a batch of `count` events holding `slot`, or None where it plans
    under the lock: a small batch, no slot, or a transaction already begun (an
    Idempotency-Key's claim, or a batch's earlier run of events), which holds the lock."""
    if (
        db is None
        or slot is None
        or count < OPTIMISTIC_FROM
        or count > SIZE
        or session.in_transaction()
    ):
        yield None
        return
    with statements(db) as snapshot:
        yield Early(snapshot, block(tops(Raw(snapshot)), slot))
