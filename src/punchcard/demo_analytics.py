"""The demo's analytics step: fit the customer-base model on the imported CDNOW history the way
the literature does (39 weeks of calibration, 39 weeks of holdout), keep it, and say how well
it forecast the holdout."""

from __future__ import annotations

from datetime import date, datetime

from punchcard.analytics.insights import service as insights
from punchcard.db import Database, session_scope
from punchcard.errors import PunchcardError

CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)


def fit(db: Database, program_id: int, now: datetime) -> str:
    """One line for the demo's summary; a failure is reported, not raised: the demo goes on."""
    try:
        with db.reader() as session:
            analysis = insights.analyse(
                session,
                program_id=program_id,
                calibration_end=CALIBRATION_END,
                holdout_end=HOLDOUT_END,
                today=now.date(),
            )
        with session_scope(db.writer) as session:
            kept = insights.keep(session, program_id=program_id, analysis=analysis, now=now)
    except PunchcardError as exc:
        return f"prediction model not fitted: {exc.message}"
    bg = kept.result["bgnbd"]
    held = kept.result["holdout"]
    auc = "n/a" if held["auc"] is None else f"{held['auc']:.3f}"
    return (
        f"prediction model {kept.model_id}: BG/NBD r={bg['r']:.3f} alpha={bg['alpha']:.3f} "
        f"a={bg['a']:.3f} b={bg['b']:.3f} on {kept.customers} customers; holdout "
        f"{held['predicted']:.0f} repeat purchases predicted, {held['actual']} actual, AUC {auc}"
    )
