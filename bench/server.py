"""`punchcard serve` for one part of a run: started as its own process tree, its memory sampled
for as long as it runs, its log kept in a file and summed up, and always stopped, workers
included, whatever happens to the run (failure, Ctrl-C, SIGTERM)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import free_port, serve, stop
from bench.memory import MemorySampler

EXCERPT_LINES = 12  # innermost frames of a traceback
TAIL_LINES = 30  # end of the log of a server that did not start


@dataclass
class Server:
    base_url: str
    log: Path
    memory: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """What a part records about its server: peak memory and any errors it logged."""
        return {"server_memory": self.memory, "server_log": log_summary(self.log)}


def log_summary(log: Path) -> dict[str, Any]:
    """How many tracebacks the server logged, by exception, and the innermost frames of the
    first one: the figures say how often the server failed, the log says why."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    exceptions: Counter[str] = Counter()
    first: list[str] = []
    for start, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        end = next((i for i in range(start + 1, len(lines)) if lines[i][:1].strip()), None)
        final = lines[end] if end is not None else "?"
        exceptions[final.split(":", 1)[0]] += 1
        if not first and end is not None:
            first = lines[max(start + 1, end - EXCERPT_LINES) : end + 1]
    return {"tracebacks": sum(exceptions.values()), "exceptions": dict(exceptions), "first": first}


@contextmanager
def running(url: str, workers: int, log: Path) -> Iterator[Server]:
    """The server, on a free port, until the block ends; `Server.memory` is filled in then."""
    port = free_port()
    with log.open("wb") as sink:
        try:
            proc = serve(url, port, workers, sink)
        except RuntimeError as exc:
            tail = log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
            raise RuntimeError("\n".join([f"{exc}; the end of its log:", *tail])) from exc
        sampler = MemorySampler(proc.pid)
        server = Server(f"http://127.0.0.1:{port}", log)
        try:
            sampler.start()
            yield server
        finally:
            sampler.stop()
            server.memory = sampler.result()
            stop(proc)
