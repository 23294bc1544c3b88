"""Pay with points: the member turns points into money off one order, as a checkout code.

It is a redemption without a reward: the same debit, the same code and the same checkout,
cancel and expiry as a fixed-amount discount, so the store needs nothing new to accept it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.errors import InvalidInputError
from punchcard.kit import codes
from punchcard.ledger import service as ledger
from punchcard.programs.domain import ProgramSettings
from punchcard.redemptions import domain
from punchcard.redemptions.errors import PointsOrAmountError, PointsPaymentOffError
from punchcard.redemptions.service import Issued, code_columns, issue

# The store applies the code while the member checks out; a week leaves room for a cart kept
# overnight. An abandoned cart's code should be cancelled by the store to give points back.
CODE_VALID_DAYS = 7


def pay_with_points(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    order_total: Decimal,
    now: datetime,
    points: int | None = None,
    amount: Decimal | None = None,
) -> Issued:
    if (points is None) == (amount is None):
        raise PointsOrAmountError("send exactly one of points and amount")
    rate = program.points_payment_rate
    if rate is None:
        raise PointsPaymentOffError("this program does not offer paying with points")
    try:
        quote = domain.quote_payment(
            rate=rate,
            max_percent=program.points_payment_max_percent,
            order_total=order_total,
            points=points,
            amount=amount,
        )
    except domain.PaymentRuleError as exc:
        raise InvalidInputError(exc.message, code=exc.code) from exc
    money = f"{domain.cents(quote.amount)} {program.currency}"
    tx_id = ledger.debit(
        session,
        program=program,
        member_id=member_id,
        points=quote.points,
        reason=f"Pay with points: {money} off an order",
        now=now,
        meta={"redemption": True, "points_payment": True},
    )
    code = codes.new_code()
    details = {
        "name": f"Pay with points: {money}",
        "order_total": domain.cents(order_total),
        "rate": rate,
        "max_percent": program.points_payment_max_percent,
        "max_amount": domain.cents(quote.max_amount),
        "capped": quote.capped,
        "requested": {"points": points} if points is not None else {"amount": str(amount)},
    }
    values = {
        "program_id": program.id,
        "member_id": member_id,
        "reward_id": None,
        "cause_id": None,
        "type": domain.POINTS_PAYMENT,
        "points": quote.points,
        "value": domain.cents(quote.amount),
        "status": domain.Status.ISSUED.value,
        "transaction_id": tx_id,
        "details": details,
        **code_columns(code, now + timedelta(days=CODE_VALID_DAYS)),
    }
    return issue(session, program.id, member_id, values, code, now)
