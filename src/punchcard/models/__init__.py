"""All tables on one metadata; importing this package registers every one of them."""

from punchcard.models import analytics as _analytics  # noqa: F401  (the tables of analytics)
from punchcard.models import badge as _badge  # noqa: F401  (the tables of badges)
from punchcard.models import challenge as _challenge  # noqa: F401  (the tables of challenges)
from punchcard.models import leaderboard as _leaderboard  # noqa: F401  (the tables of leaderboards)
from punchcard.models import referral as _referral  # noqa: F401  (the tables of referrals)
from punchcard.models import share as _share  # noqa: F401  (the tables of social)
from punchcard.models import streak as _streak  # noqa: F401  (the tables of streaks)
from punchcard.models import web as _web  # noqa: F401  (admin users, login codes, outbox)
from punchcard.models.api_key import ApiKey
from punchcard.models.award import Award
from punchcard.models.balance import Balance
from punchcard.models.base import Base
from punchcard.models.cause import Cause
from punchcard.models.event import Event
from punchcard.models.event_schema import EventSchema
from punchcard.models.idempotency_key import IdempotencyKey
from punchcard.models.ledger_transaction import LedgerTransaction
from punchcard.models.lot import Lot
from punchcard.models.lot_entry import LotEntry
from punchcard.models.member import Member
from punchcard.models.member_tier import MemberTier
from punchcard.models.order import Order
from punchcard.models.pending_credit import PendingCredit
from punchcard.models.posting import Posting
from punchcard.models.prediction_model import PredictionModel
from punchcard.models.program import Program
from punchcard.models.redemption import Redemption
from punchcard.models.reward import Reward
from punchcard.models.rule_budget import RuleBudget
from punchcard.models.rule_set import RuleSetVersion
from punchcard.models.tier_change import TierChange
from punchcard.models.tier_policy import TierPolicy

__all__ = [
    "ApiKey",
    "Award",
    "Balance",
    "Base",
    "Cause",
    "Event",
    "EventSchema",
    "IdempotencyKey",
    "LedgerTransaction",
    "Lot",
    "LotEntry",
    "Member",
    "MemberTier",
    "Order",
    "PendingCredit",
    "Posting",
    "PredictionModel",
    "Program",
    "Redemption",
    "Reward",
    "RuleBudget",
    "RuleSetVersion",
    "TierChange",
    "TierPolicy",
]
