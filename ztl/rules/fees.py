"""What an application costs: the category's fee for the validity chosen, plus stamp duty.

Money is in integer cents. Stamp duty is due twice (on the application and on the permit) unless the
category is exempt; a category may waive its fee for some fuels (electric vehicles free).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ztl.rules.municipality import CategoryRules, Municipality


@dataclass(frozen=True)
class Fee:
    fee_cents: int
    stamp_duty_cents: int

    @property
    def total_cents(self) -> int:
        return self.fee_cents + self.stamp_duty_cents


def fee_for(
    municipality: Municipality, category: CategoryRules, validity: str, fuels: Collection[str]
) -> Fee:
    if validity not in category.fees_cents:
        raise KeyError(f"category {category.code} has no validity {validity}")
    fee = category.fees_cents[validity]
    if fuels and category.free_fuels and all(f in category.free_fuels for f in fuels):
        fee = 0
    stamp = 2 * municipality.stamp_duty_cents if category.stamp_duty else 0
    return Fee(fee, stamp)
