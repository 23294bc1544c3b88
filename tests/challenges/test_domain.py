"""The pure rules of challenges: steps in order, windows, eligibility, refunds, texts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from punchcard.challenges import domain
from punchcard.challenges.domain import Eligibility, Metric, Prize, Spec, Status, Step, Window
from punchcard.rules.domain import Conditions, Facts
from tests.conftest import START

DAY = timedelta(days=1)


def facts(kind: str = "order.placed", amount: str | None = "10.00", **extra: object) -> Facts:
    return Facts(kind, START, "web", None, None if amount is None else Decimal(amount), **extra)  # type: ignore[arg-type]


def spec(*steps: Step, window: Window | None = None, **fields: object) -> Spec:
    values: dict[str, object] = {
        "steps": steps or (step(),),
        "window": window,
        "opt_in_required": False,
        "repeatable": False,
        "max_completions": None,
        "eligibility": Eligibility(),
        "reward": Prize(points=10),
    }
    values.update(fields)
    return Spec(**values)  # type: ignore[arg-type]


def step(
    events: tuple[str, ...] = ("order.placed",),
    metric: Metric = Metric.COUNT,
    target: str = "2",
    conditions: Conditions | None = None,
) -> Step:
    return Step(frozenset(events), conditions or Conditions(), metric, Decimal(target), "orders")


def test_a_count_step_adds_one_and_a_sum_step_adds_the_amount() -> None:
    assert step().delta("order.placed", facts()) == 1
    assert step(metric=Metric.SUM).delta("order.placed", facts(amount="12.5")) == Decimal("12.50")
    assert step(metric=Metric.SUM).delta("order.placed", facts(amount=None)) is None
    assert step().delta("review.submitted", facts()) is None


def test_conditions_are_the_rules_engines() -> None:
    big = step(conditions=Conditions(min_amount=Decimal(50)))

    assert big.delta("order.placed", facts(amount="49.99")) is None
    assert big.delta("order.placed", facts(amount="50")) == 1


def test_steps_are_done_in_order_and_one_event_counts_for_one_step() -> None:
    two = spec(step(target="1"), step(events=("review.submitted",), target="1"))
    run = domain.new_run(two, 7, 1, 0, START, joined=False)
    assert run is not None

    assert domain.advance(two, run, "review.submitted", facts("review.submitted")) is None
    moved = domain.advance(two, run, "order.placed", facts())
    assert moved == domain.Moved(1, Decimal(0), False, Decimal(1))
    later = domain.Run(7, 1, 1, Decimal(0), 0, False, START, None, None)
    assert domain.advance(two, later, "review.submitted", facts("review.submitted")) == (
        domain.Moved(1, Decimal(1), True, Decimal(1))
    )


def test_a_fixed_window_counts_from_its_start_up_to_but_not_at_its_end() -> None:
    fixed = spec(window=Window("fixed", starts_at=START, ends_at=START + DAY))
    run = domain.new_run(fixed, 1, 1, 0, START, joined=False)
    assert run is not None
    assert run.deadline == START + DAY

    assert not domain.counts_at(fixed, run, START - timedelta(microseconds=1))
    assert domain.counts_at(fixed, run, START)
    assert domain.counts_at(fixed, run, START + DAY - timedelta(microseconds=1))
    assert not domain.counts_at(fixed, run, START + DAY)
    assert domain.closed(fixed, START + DAY)
    assert not domain.closed(fixed, START)


def test_a_rolling_window_runs_n_days_from_the_opt_in() -> None:
    rolling = spec(window=Window("rolling", days=7))
    run = domain.new_run(rolling, 1, 1, 0, START, joined=True)
    assert run is not None
    assert run.deadline == START + 7 * DAY

    assert not domain.counts_at(rolling, run, START - DAY)
    assert domain.counts_at(rolling, run, START + 6 * DAY)
    assert not domain.counts_at(rolling, run, START + 7 * DAY)
    assert domain.status(rolling, run, START + 7 * DAY) is Status.EXPIRED


def test_only_repeatable_challenges_start_another_run_up_to_their_maximum() -> None:
    once = spec()
    again = spec(repeatable=True, max_completions=2)
    forever = spec(repeatable=True)

    assert domain.new_run(once, 1, 2, 1, START, joined=False) is None
    assert domain.new_run(again, 1, 2, 1, START, joined=False) is not None
    assert domain.new_run(again, 1, 3, 2, START, joined=False) is None
    assert domain.new_run(forever, 1, 99, 98, START, joined=False) is not None


def test_eligibility_by_tier_channel_and_enrolment_date() -> None:
    gold = spec(eligibility=Eligibility(tiers=frozenset({"gold"})))
    app = spec(eligibility=Eligibility(channels=frozenset({"app"})))
    new = spec(eligibility=Eligibility(new_members_within_days=30))
    member = domain.Member("silver", "web", START - 31 * DAY)

    assert domain.refusal(gold, member, START) == "tiers"
    assert domain.refusal(gold, domain.Member("gold", "web", START), START) is None
    assert domain.refusal(app, member, START) == "enrolled_channels"
    assert domain.refusal(new, member, START) == "new_members_within_days"
    assert domain.refusal(new, member, START - DAY) is None


def test_a_refund_takes_out_a_count_only_with_the_whole_order_and_a_sum_in_proportion() -> None:
    def take(metric: Metric, refunded: str, fully: bool, taken: str = "0") -> Decimal:
        return domain.to_take(
            metric, Decimal("40"), Decimal(taken), refunded=Decimal(refunded),
            total=Decimal("40"), fully=fully,
        )  # fmt: skip

    assert take(Metric.COUNT, "10", False) == 0
    assert take(Metric.COUNT, "40", True) == Decimal("40")
    assert take(Metric.SUM, "10", False) == Decimal("10")
    assert take(Metric.SUM, "25", False, taken="10") == Decimal("15")
    assert take(Metric.SUM, "40", True, taken="25") == Decimal("15")


def test_progress_reads_as_a_count_or_as_what_is_left_to_spend() -> None:
    assert domain.progress_text(step(target="5"), Decimal(3)) == "3 of 5 orders"
    assert domain.progress_text(step(metric=Metric.SUM, target="50"), Decimal(30)) == (
        "spend 20.00 more"
    )


def test_status_follows_the_latest_run() -> None:
    plain = spec()
    fresh = domain.Run(1, 1, 0, Decimal(0), 0, False, START, None, None)

    assert domain.status(plain, None, START) is Status.AVAILABLE
    assert domain.status(plain, fresh, START) is Status.AVAILABLE
    joined = domain.Run(1, 1, 0, Decimal(0), 0, True, START, None, None)
    assert domain.status(plain, joined, START) is Status.JOINED
    going = domain.Run(1, 1, 0, Decimal(1), 0, True, START, None, None)
    assert domain.status(plain, going, START) is Status.IN_PROGRESS
    done = domain.Run(1, 1, 0, Decimal(2), 0, True, START, None, START)
    assert domain.status(plain, done, START) is Status.COMPLETED
