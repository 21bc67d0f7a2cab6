"""What anything costs: the one function every amount on a page, an e-mail or a permit comes from.

Money is in integer cents, and the rules file is the only place fees are written: no copy is kept in
the database, so an edited fee is what the next page shows. Stamp duty is due twice (on the
application and on the permit) unless the category is exempt; a category may waive its fee for some
fuels (electric vehicles free). A renewal is a new permit and costs what an application does,
online or at the counter; a plate change is free; a booklet (hotel guests) costs its price.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from ztl.rules.municipality import CategoryRules, Municipality


class Purpose(StrEnum):
    APPLICATION = "application"
    RENEWAL = "renewal"
    PLATE_CHANGE = "plate_change"
    BOOKLET = "booklet"


@dataclass(frozen=True)
class Fee:
    fee_cents: int
    stamp_duty_cents: int

    @property
    def total_cents(self) -> int:
        return self.fee_cents + self.stamp_duty_cents


FREE = Fee(0, 0)


def fee_for(
    municipality: Municipality,
    category: CategoryRules,
    validity: str | None,
    fuels: Collection[str],
    purpose: Purpose = Purpose.APPLICATION,
) -> Fee:
    """The fee and stamp duty of `purpose` for a category (validity: an ISO duration it offers)."""
    if purpose is Purpose.PLATE_CHANGE:
        return FREE
    stamp = 2 * municipality.stamp_duty_cents if category.stamp_duty else 0
    if purpose is Purpose.BOOKLET:
        if category.booklet is None:
            raise KeyError(f"category {category.code} sells no booklets")
        return Fee(category.booklet.fee_cents, stamp)
    if validity is None or validity not in category.fees_cents:
        raise KeyError(f"category {category.code} has no validity {validity}")
    fee = category.fees_cents[validity]
    if fuels and category.free_fuels and all(f in category.free_fuels for f in fuels):
        fee = 0
    return Fee(fee, stamp)


def lowest_fee(municipality: Municipality, category: CategoryRules) -> Fee:
    """The cheapest way into a category (its public price "from EUR x"), for catalogue pages."""
    if category.booklet is not None:
        return fee_for(municipality, category, None, (), Purpose.BOOKLET)
    return min(
        (fee_for(municipality, category, v, ()) for v in category.validity),
        key=lambda fee: fee.total_cents,
    )
