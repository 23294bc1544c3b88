"""Peak memory of a server's process tree under load.

uvicorn with several workers is a supervisor, a multiprocessing resource tracker and one process
per worker, and the workers come and go with the server; so the tree is walked again at every
sample (psutil, every 0.2 s, in a thread) and each process keeps its own peak RSS. The total is
the peak of the sum at one instant (RSS counts shared pages once per process, so it overstates
what the machine really spends; it is the figure an operator's `ps` or a container limit sees).
"""

from __future__ import annotations

import threading
from typing import Any

import psutil

MB = 1024 * 1024


class MemorySampler:
    """Samples `pid` and its descendants until stopped; `result()` gives the peaks in MB."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self._root = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._peaks: dict[int, int] = {}
        self._helper: dict[int, bool] = {}
        self._peak_total = 0
        self._samples = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def _sample(self) -> None:
        try:
            tree = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return  # the server is gone
        total = 0
        for proc in tree:
            try:
                rss = int(proc.memory_info().rss)
                if proc.pid not in self._helper:
                    self._helper[proc.pid] = "resource_tracker" in " ".join(proc.cmdline())
            except psutil.Error:
                continue  # a process that ended between the walk and the read
            self._peaks[proc.pid] = max(self._peaks.get(proc.pid, 0), rss)
            total += rss
        self._peak_total = max(self._peak_total, total)
        self._samples += 1

    def _role(self, pid: int) -> str:
        """The root serves requests itself unless it started workers, then it supervises."""
        if pid != self._root.pid:
            return "helper" if self._helper[pid] else "worker"
        others = [p for p in self._peaks if p != pid and not self._helper[p]]
        return "master" if others else "worker"

    def result(self) -> dict[str, Any]:
        processes = [
            {"pid": pid, "role": self._role(pid), "peak_rss_mb": round(peak / MB, 1)}
            for pid, peak in sorted(self._peaks.items())
        ]
        workers = [
            round(peak / MB, 1) for pid, peak in self._peaks.items() if self._role(pid) == "worker"
        ]
        return {
            "peak_total_mb": round(self._peak_total / MB, 1),
            "peak_worker_mb": max(workers, default=None),
            "workers": len(workers),
            "processes": processes,
            "samples": self._samples,
        }
