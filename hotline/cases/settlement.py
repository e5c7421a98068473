"""When the money recovered in a mediation deserves a second look. Not a cap: punitive damages are
lawful and can be many times the price, so the handler only confirms a figure that looks like a slip."""
from decimal import Decimal

# Consumer Rights Protection Law art. 55: fraud earns the refund plus three times the price (at least
# 500 yuan). Food Safety Law art. 148: ten times the price or three times the loss, at least 1,000 yuan.
CRPL_55_MULTIPLE = 3
FSL_148_MINIMUM = Decimal("1000")


def confirmation_threshold(amount: Decimal) -> Decimal:
    """The refund plus the larger of art. 55's threefold and art. 148's 1,000-yuan minimum: the most a
    routine settlement reaches. Above it an extra zero or fen typed for yuan is the likelier cause."""
    return amount + max(amount * CRPL_55_MULTIPLE, FSL_148_MINIMUM)


def needs_confirmation(amount: Decimal | None, recovered: Decimal | None) -> bool:
    """True when `recovered` is far above the amount in dispute (none known: nothing to compare)."""
    if amount is None or recovered is None:
        return False
    return recovered > confirmation_threshold(amount)
