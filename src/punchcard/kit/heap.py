"""The garbage collector, set for a process that is about to serve or import.

By the time a server worker or a CLI command starts its work, it holds a large heap that lives
as long as the process: modules, pydantic validators, SQLAlchemy mappers, about a million
objects. Python's collector scans all of them again at every full collection, and a batch of
1,000 events (or an import of 5,000 orders) allocates enough objects that survive until the
answer to set off several full collections per call: py-spy put a quarter of a batch's time
in them, inside whatever allocated last (pydantic's validation, mostly).

`settle` moves that start-up heap out of the collector's sight (`gc.freeze`) and collects the
young generation less often. Reference counting still frees everything that is not in a cycle
at once; cycles are still collected, only in bigger rounds. Measured in docs/performance.md
(item 15)."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # Python's default is 700 allocations between young collections


def settle() -> None:
    """Collect what start-up left behind, then freeze the rest; call once the process has
    imported and built what it will keep, and never in a process that builds many apps
    (a test run), whose frozen garbage would never be freed."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
