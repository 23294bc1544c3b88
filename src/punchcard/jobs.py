"""Every periodic job in one pass, as run by `punchcard jobs run` and `punchcard worker`."""

from __future__ import annotations

from datetime import datetime

from punchcard.analytics.kpis import tasks as kpi_tasks
from punchcard.badges import tasks as badge_tasks
from punchcard.config import Settings
from punchcard.db import Database
from punchcard.events import tasks as event_tasks
from punchcard.idempotency import tasks as idempotency_tasks
from punchcard.ledger.tasks import JobReport, run_ledger_jobs
from punchcard.outbox import service as outbox
from punchcard.redemptions import tasks as redemption_tasks
from punchcard.tiers import tasks as tier_tasks
from punchcard.web import tasks as web_tasks


def run_all(db: Database, *, now: datetime, settings: Settings) -> JobReport:
    report = run_ledger_jobs(db, now=now, batch_size=settings.jobs_batch_size)
    report.birthdays = event_tasks.birthdays(db, now=now, batch_size=settings.jobs_batch_size)
    report.expired_codes = redemption_tasks.expire_codes(
        db, now=now, batch_size=settings.jobs_batch_size
    )
    report.tiers = tier_tasks.reevaluate(
        db, now=now, batch_size=settings.jobs_batch_size, failures=report.failures
    )
    report.badges = badge_tasks.run(db, now=now, batch_size=settings.jobs_batch_size)
    report.pruned_keys = idempotency_tasks.prune(
        db, now=now, ttl_hours=settings.idempotency_ttl_hours
    )
    # Anything a request wrote to the outbox but could not deliver right after its commit.
    report.emails = outbox.deliver(db, transport=settings.mail_transport, now=now)
    report.login_codes = web_tasks.prune_login_codes(db, now=now)
    outbox.prune(db, now=now)
    # Last: it reads what the jobs above wrote. Reads never wait for it (they add the tail).
    kpi_tasks.refresh_rollup(db, now=now)
    return report
