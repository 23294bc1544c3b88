"""The plain-text report of a fit, as `punchcard analytics clv` prints it."""

from __future__ import annotations

from punchcard.analytics.insights.schemas import PredictionOut


def describe(found: PredictionOut) -> str:
    bg = found.bgnbd
    lines = [
        f"calibration: orders up to {found.calibration_end}, {found.customers} customers"
        + (f" ({found.later_customers} first bought later)" if found.later_customers else ""),
        f"BG/NBD: r={bg.r:.4f} alpha={bg.alpha:.4f} a={bg.a:.4f} b={bg.b:.4f} "
        f"log-likelihood={bg.log_likelihood:.2f}" + ("" if bg.converged else " (NOT converged)"),
    ]
    gg = found.gamma_gamma
    if gg is not None:
        lines.append(
            f"Gamma-Gamma: p={gg.p:.4f} q={gg.q:.4f} v={gg.v:.4f} "
            f"log-likelihood={gg.log_likelihood:.2f} ({gg.customers} repeat customers)"
        )
    else:
        lines.append(f"Gamma-Gamma: not fitted: {found.gamma_gamma_error}")
    held = found.holdout
    if held is not None:
        auc = "n/a (one class only)" if held.auc is None else f"{held.auc:.3f}"
        lines.append(
            f"holdout to {found.holdout_end} ({held.weeks:.1f} weeks): predicted "
            f"{held.predicted:.1f} repeat purchases, actual {held.actual}; "
            f"AUC of buying again {auc}"
        )
    if found.id is not None:
        lines.append(f"kept as model {found.id}: members' insights use it")
    return "\n".join(lines)
