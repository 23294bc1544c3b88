"""The targets of the performance issue, checked against a run's results, as table rows
(metric, value, target, PASS/FAIL). Figures without a target get a row with neither; the
correctness checks (CDNOW orders imported, contention balance, ledger verify) count as targets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from bench.ingest import EXPECTED_ORDERS

EARN_MIN_PG = 1_200  # events/s
EARN_P99_MAX_MS = 50  # PostgreSQL
RATIO_MIN = 0.4  # HTTP earn PostgreSQL events/s over pgbench tps
BATCH_MIN = 10_000  # events/s, each database
IMPORT_MAX_S = 5  # each database
WORKER_RSS_MAX_MB = 300  # each server process that serves requests

DB_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    target: str = ""
    verdict: str = ""  # PASS, FAIL, ERROR (the part failed) or "" (no target)


def _row(metric: str, value: str, target: str = "", ok: bool | None = None) -> Row:
    return Row(metric, value, target, "" if ok is None else "PASS" if ok else "FAIL")


def _target(applies: bool, target: str, ok: bool) -> tuple[str, bool | None]:
    """The PostgreSQL targets of HTTP earn do not apply to SQLite, which is measured alone."""
    return (target, ok) if applies else ("", None)


def _errors(count: int, *details: dict[str, int]) -> str:
    """`3 (500 internal_error: 2, read: 1)`: the count and what it is made of."""
    parts = [f"{k}: {v}" for detail in details for k, v in detail.items() if v]
    return f"{count} ({', '.join(parts)})" if parts else str(count)


def _codes(r: dict[str, Any], *, only: int | None = None, but: int | None = None) -> dict[str, int]:
    """The answers of a wrk run by "status code", of one status only or of all but one."""
    codes: dict[str, int] = r["error_codes"]
    status = {k: int(k.split()[0]) for k in codes}
    return {k: n for k, n in codes.items() if status[k] != but and only in (None, status[k])}


def _server(name: str, r: dict[str, Any]) -> Iterator[Row]:
    """Peak RSS of the server that served a part, and the tracebacks it logged, if any."""
    m = r["server_memory"]
    worker = m["peak_worker_mb"]
    if worker is None:
        yield _row(f"{name}: server RSS MB", "n/a", f"< {WORKER_RSS_MAX_MB} per worker", False)
    else:
        value = f"{worker:.0f} per worker, {m['peak_total_mb']:.0f} total ({m['workers']} workers)"
        ok = worker < WORKER_RSS_MAX_MB
        yield _row(f"{name}: server RSS MB", value, f"< {WORKER_RSS_MAX_MB} per worker", ok)
    log = r["server_log"]
    if log["tracebacks"]:
        kinds = ", ".join(f"{k}: {n}" for k, n in log["exceptions"].items())
        yield _row(f"{name}: server tracebacks", f"{log['tracebacks']} ({kinds})")


def _pgbench(r: dict[str, Any]) -> Iterator[Row]:
    yield _row("pgbench TPC-B tps (scale 10, 8 clients)", f"{r['tps']:,.0f}", "reference")


def _http(db: str, r: dict[str, Any]) -> Iterator[Row]:
    name = f"HTTP earn {DB_NAMES[db]}"
    pg = db == "postgresql"
    rate, p99, errors = r["events_per_s"], r["p99_ms"], r["errors"]
    yield _row(
        f"{name}: events/s",
        f"{rate:,.0f}",
        *_target(pg, f">= {EARN_MIN_PG:,}", rate >= EARN_MIN_PG),
    )
    yield _row(f"{name}: p50 ms", f"{r['p50_ms']:.1f}")
    yield _row(
        f"{name}: p99 ms", f"{p99:.1f}", *_target(pg, f"< {EARN_P99_MAX_MS}", p99 < EARN_P99_MAX_MS)
    )
    detail = _errors(errors, _codes(r), r["socket_errors"])
    yield _row(f"{name}: errors", detail, *_target(pg, "0", errors == 0))
    yield from _server(name, r)


def _engaged(db: str, r: dict[str, Any]) -> Iterator[Row]:
    """No target of its own: what a program using challenges, badges, a streak and a
    leaderboard gets, to read next to the plain HTTP earn rows."""
    name = f"HTTP earn, game features on, {DB_NAMES[db]}"
    yield _row(f"{name}: events/s", f"{r['events_per_s']:,.0f}")
    yield _row(f"{name}: p50 / p99 ms", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}")
    yield _row(f"{name}: errors", _errors(r["errors"], _codes(r), r["socket_errors"]))
    yield from _server(name, r)


def _batch(db: str, r: dict[str, Any]) -> Iterator[Row]:
    name = f"Batch earn {DB_NAMES[db]}"
    rate = r["events_per_s"]
    yield _row(f"{name}: events/s", f"{rate:,.0f}", f">= {BATCH_MIN:,}", rate >= BATCH_MIN)
    p50 = r["call_p50_ms"]
    calls = f"{name}: call p50 ms ({r['calls']} calls of {r['events_per_call']:,}"
    calls += f", {r['clients']} clients)" if "clients" in r else ")"
    yield _row(calls, "n/a" if p50 is None else f"{p50:,.0f}")
    detail = _errors(r["errors"], r["error_codes"], r["transport_errors"])
    yield _row(f"{name}: errors (failed calls + rejected events)", detail)
    yield from _server(name, r)


def _import(db: str, r: dict[str, Any]) -> Iterator[Row]:
    name = f"CDNOW import {DB_NAMES[db]}"
    seconds, n = r["seconds"], r["orders_imported"]
    yield _row(f"{name}: seconds", f"{seconds:.1f}", f"< {IMPORT_MAX_S}", seconds < IMPORT_MAX_S)
    yield _row(f"{name}: orders/s", f"{r['orders_per_s']:,.0f}")
    yield _row(f"{name}: peak RSS MB", f"{r['peak_rss_mb']:.0f}")
    yield _row(f"{name}: orders imported", f"{n:,}", f"= {EXPECTED_ORDERS:,}", n == EXPECTED_ORDERS)


def _contention(db: str, r: dict[str, Any]) -> Iterator[Row]:
    name = f"Hot member {DB_NAMES[db]}"
    yield _row(f"{name}: spends/s ({r['clients']} clients)", f"{r['spends_per_s']:,.0f}")
    yield _row(f"{name}: p50 / p99 ms", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}")
    detail = _errors(r["errors"], _codes(r, but=409), r["socket_errors"])
    yield _row(f"{name}: errors (409 apart)", detail)
    yield _row(f"{name}: 409 conflicts", _errors(r["conflicts"], _codes(r, only=409)))
    check = r["balance_check"]
    spends = f"{r['history_spends']:,} spends, {r['client_spends']:,} seen by clients"
    balance = f"{check} (balance {r['balance']:,}, {spends})"
    yield _row(f"{name}: balance = credit - spends", balance, "OK", check == "OK")
    verify = r["ledger_verify"]
    yield _row(f"{name}: ledger verify", verify, "OK", verify == "OK")
    yield from _server(name, r)


PER_DATABASE: dict[str, Callable[[str, dict[str, Any]], Iterator[Row]]] = {
    "http": _http,
    "engaged": _engaged,
    "batch": _batch,
    "import": _import,
    "contention": _contention,
}


def rows(results: dict[str, Any]) -> list[Row]:
    """Every row of the table, in the order the parts ran; a part that failed is one ERROR row."""
    out: list[Row] = []
    if "pgbench" in results:
        r = results["pgbench"]
        out += (
            [Row("pgbench", f"error: {r['error']}", "", "ERROR")] if "error" in r else _pgbench(r)
        )
    for part, make in PER_DATABASE.items():
        for db, r in results.get(part, {}).items():
            if "error" in r:
                out.append(Row(f"{part} {DB_NAMES[db]}", f"error: {r['error']}", "", "ERROR"))
            else:
                out += make(db, r)
        ratio = results.get("pgbench_ratio")
        if part == "http" and ratio is not None:
            metric = "pgbench ratio (HTTP earn PostgreSQL / pgbench tps)"
            out.append(_row(metric, f"{ratio:.2f}", f">= {RATIO_MIN}", ratio >= RATIO_MIN))
    return out


def table(found: list[Row]) -> str:
    lines = [Row("metric", "value", "target"), *found]
    width = [max(len(r.metric) for r in lines), max(len(r.value) for r in lines)]
    target = max(len(r.target) for r in lines)
    return "\n".join(
        f"{r.metric:<{width[0]}}  {r.value:<{width[1]}}  {r.target:<{target}}  {r.verdict}".rstrip()
        for r in lines
    )


def as_json(found: list[Row]) -> list[dict[str, str]]:
    return [asdict(r) for r in found]
