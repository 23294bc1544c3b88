"""Customer-base prediction: accuracy on CDNOW and speed on a synthetic million-member program.

    .venv/bin/python -m bench.predict [--members 1000000] [--seed 7] [--out bench/predict.json]

(a) CDNOW sample (2,357 customers): BG/NBD and Gamma-Gamma against the published estimates
    (Fader, Hardie & Lee 2005; Fader & Hardie 2013), calibration to 1997-09-30, and the holdout
    to 1998-06-30: predicted against actual repeat transaction days, and the AUC of "buys again".
(b) CDNOW master (23,570 customers): the same split, with summarise and fit timed apart.
(c) A synthetic program simulated from the BG/NBD process with the CDNOW parameters (and
    Gamma-Gamma spend), members acquired over the first 12 weeks, 78 weeks of history,
    calibration 39: summarise, fit and score times, and the process's peak RSS.

Pure numpy/scipy, no database. Prints a table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from punchcard.analytics.prediction import bgnbd, gammagamma, history, model
from punchcard.analytics.prediction.bgnbd import BgNbdParams
from punchcard.analytics.prediction.gammagamma import GammaGammaParams

DATA = Path(__file__).resolve().parents[1] / "data" / "cdnow"
CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
CDNOW_BG = BgNbdParams(**PUBLISHED_BGNBD)
CDNOW_GG = GammaGammaParams(**PUBLISHED_GG)
SYNTHETIC_START = date(2024, 1, 1)


def _yyyymmdd(values: np.ndarray) -> np.ndarray:
    v = values.astype(np.int64)
    months = (v // 10000 - 1970) * 12 + (v // 100 % 100 - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") + (v % 100 - 1)


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, day, amount) of a CDNOW file; the master has a header and no sample column."""
    path = DATA / name
    if not path.exists():
        sys.exit(f"missing {path}")
    if name == "CDNOW_sample.txt":
        raw = np.loadtxt(path)
        return raw[:, 0].astype(np.int64), _yyyymmdd(raw[:, 2]), raw[:, 4]
    raw = np.loadtxt(path, skiprows=1)
    return raw[:, 0].astype(np.int64), _yyyymmdd(raw[:, 1]), raw[:, 3]


def _timed(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return result, round(time.perf_counter() - start, 3)


def _pct(ours: float, published: float) -> float:
    return round(100.0 * (ours - published) / published, 3)


def evaluate(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    calibration_end: date,
    holdout_end: date,
    *,
    score: bool = False,
) -> dict[str, Any]:
    summary, t_summary = _timed(
        history.summarise, *rows, calibration_end=calibration_end, holdout_end=holdout_end
    )
    fitted, t_fit = _timed(model.fit, summary)
    _, t_bgnbd = _timed(bgnbd.fit, summary.x, summary.t_x, summary.T)
    _, t_gamma = _timed(gammagamma.fit, summary.x, summary.monetary)
    holdout, t_holdout = _timed(model.holdout_check, fitted, summary)
    found: dict[str, Any] = {
        "orders": int(rows[0].size),
        "customers": summary.customers,
        "later_customers": summary.later_customers,
        "seconds": {
            "summarise": t_summary,
            "fit": t_fit,
            "fit_bgnbd_alone": t_bgnbd,
            "fit_gamma_gamma_alone": t_gamma,
            "holdout": t_holdout,
        },
        "result": model.result_json(fitted, holdout),
    }
    if score:
        scores, t_score = _timed(model.score_summary, fitted, summary)
        found["seconds"]["score"] = t_score
        found["segments"] = dict(zip(*np.unique(scores.segment, return_counts=True), strict=True))
        found["segments"] = {str(k): int(v) for k, v in found["segments"].items()}
        found["mean_p_alive"] = round(float(scores.p_alive.mean()), 4)
    return found


def versus_published(result: dict[str, Any]) -> dict[str, Any]:
    bg, gg = result["bgnbd"], result["gamma_gamma"]
    return {
        "bgnbd": {
            k: {"ours": round(bg[k], 4), "published": v, "diff_pct": _pct(bg[k], v)}
            for k, v in PUBLISHED_BGNBD.items()
        }
        | {
            "log_likelihood": {
                "ours": round(bg["log_likelihood"], 2),
                "published": PUBLISHED_LL,
                "diff_pct": _pct(bg["log_likelihood"], PUBLISHED_LL),
            }
        },
        "gamma_gamma": {
            k: {"ours": round(gg[k], 4), "published": v, "diff_pct": _pct(gg[k], v)}
            for k, v in PUBLISHED_GG.items()
        }
        | {"log_likelihood": {"ours": round(gg["log_likelihood"], 2)}},
    }


def simulate(members: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order rows of `members` customers following BG/NBD (CDNOW parameters) for 78 weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(CDNOW_BG.r, 1.0 / CDNOW_BG.alpha, members)
    drop = rng.beta(CDNOW_BG.a, CDNOW_BG.b, members)
    nu = rng.gamma(CDNOW_GG.q, 1.0 / CDNOW_GG.v, members)
    first = rng.uniform(0.0, 12.0, members)
    ids = np.arange(1, members + 1, dtype=np.int64)
    customers, weeks = [ids], [first]
    alive = np.arange(members)  # the first purchase never ends a life: all start alive
    clock = first.copy()
    while alive.size:
        clock[alive] += rng.exponential(1.0, alive.size) / np.maximum(lam[alive], 1e-12)
        alive = alive[clock[alive] <= 78.0]
        customers.append(ids[alive])
        weeks.append(clock[alive].copy())
        alive = alive[rng.random(alive.size) >= drop[alive]]
    customer = np.concatenate(customers)
    at = np.concatenate(weeks)
    start = np.datetime64(SYNTHETIC_START.isoformat(), "D")
    day = start + np.floor(at * 7.0).astype(np.int64)
    amount = rng.gamma(CDNOW_GG.p, 1.0, customer.size) / nu[customer - 1]
    return customer, day, np.round(amount, 2)


def synthetic(members: int, seed: int) -> dict[str, Any]:
    rows, t_simulate = _timed(simulate, members, seed)
    calibration_end = date.fromordinal(SYNTHETIC_START.toordinal() + 39 * 7)
    holdout_end = date.fromordinal(SYNTHETIC_START.toordinal() + 78 * 7)
    found = evaluate(rows, calibration_end, holdout_end, score=True)
    found["seconds"]["simulate"] = t_simulate
    found["true_params"] = {"bgnbd": PUBLISHED_BGNBD, "gamma_gamma": PUBLISHED_GG}
    found["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return found


def _line(label: str, *cells: Any) -> str:
    return f"{label:<34}" + "".join(f"{c!s:>14}" for c in cells)


def table(results: dict[str, Any]) -> str:
    out = ["(a) CDNOW sample, calibration to 1997-09-30, holdout to 1998-06-30"]
    out.append(_line("", "ours", "published", "diff %"))
    vs = results["sample"]["versus_published"]
    for model_name in ("bgnbd", "gamma_gamma"):
        for name, cell in vs[model_name].items():
            out.append(
                _line(
                    f"  {model_name} {name}",
                    cell["ours"],
                    cell.get("published", ""),
                    cell.get("diff_pct", ""),
                )
            )
    for key, title in (("sample", "(a)"), ("master", "(b) CDNOW master"), ("synthetic", "(c)")):
        r = results[key]
        h = r["result"]["holdout"]
        if key != "sample":
            out.append(f"{title}: {r['customers']:,} customers, {r['orders']:,} orders")
            bg = r["result"]["bgnbd"]
            out.append(
                _line("  bgnbd r alpha a b", *(round(bg[k], 4) for k in ("r", "alpha", "a", "b")))
            )
            gg = r["result"]["gamma_gamma"]
            if gg is not None:
                out.append(_line("  gamma_gamma p q v", *(round(gg[k], 3) for k in "pqv")))
        out.append(
            _line(
                f"  holdout {h['weeks']:.0f} weeks",
                f"pred {h['predicted']:.1f}",
                f"actual {h['actual']}",
                f"err {_pct(h['predicted'], h['actual'])}%",
                f"AUC {h['auc']:.4f}",
            )
        )
        out.append("  seconds: " + ", ".join(f"{k} {v}" for k, v in r["seconds"].items()))
    out.append(f"  peak RSS {results['synthetic']['peak_rss_mb']} MB")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("predict.json"))
    args = parser.parse_args(argv)
    sample = evaluate(load("CDNOW_sample.txt"), CALIBRATION_END, HOLDOUT_END)
    sample["versus_published"] = versus_published(sample["result"])
    master = evaluate(load("CDNOW_master.txt"), CALIBRATION_END, HOLDOUT_END, score=True)
    results = {
        "sample": sample,
        "master": master,
        "synthetic": synthetic(int(args.members), args.seed),
    }
    print(table(results))
    args.out.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
