"""The garbage collector, set for a process that is about to serve or import.

By the time a server worker or a CLI command starts its work, it holds a large heap that lives
as long as the process: modules, pydantic validators, SQLAlchemy mappers, some 160,000
objects. Python's collector scans all of them again at every full collection, and a batch of
1,000 events (or an import of 5,000 orders) allocates enough objects that survive until the
answer to set off several full collections per call: py-spy put a quarter of a batch's time
in them, inside whatever allocated last (pydantic's validation, mostly).

`settle` moves that start-up heap out of the collector's sight (`gc.freeze`) and collects the
young generation less often: only once 200,000 more objects are alive than at the last
collection. A batch or an import batch holds a hundred thousand objects and more until its
rows are written and its answer sent, and they are freed at once afterwards; with a lower
threshold each call was collected while they were all alive, for nothing. A higher one
(500,000) left the ORM's cycles uncollected long enough to cost a worker on the engagement
path 30 MB more at its peak. Reference counting
still frees everything that is not in a cycle at once; cycles are still collected, only in
bigger rounds. Measured in docs/performance.md (items 15 and 30)."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 200_000  # Python's default is 700 (net allocations between young collections)


def settle() -> None:
    """Freeze the heap as it is; call once the process has imported and built what it will
    keep, and never in a process that builds many apps (a test run), whose frozen garbage
    would never be freed. No collection first: the collections that ran during the imports
    leave next to nothing (0 to 85 unreachable objects, measured), and a full one costs 90 ms
    of every command's start-up."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
