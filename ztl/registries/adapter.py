"""The interface eligibility checks use to ask the registers, whatever their source.

Why a Protocol: the default source is the tables filled by the CSV imports (SqlRegistryAdapter), but
a municipality may answer from a web service instead; services depend on this interface only, and
tests can pass a fake with the same methods.

Every lookup takes what a person typed (a codice fiscale in any omocodic variant, a plate with
spaces, "V. Ricasoli" and "12/A") and normalises it with ztl.values; input that cannot be a valid
value raises ztl.values.InvalidValue (callers validate at their edge, so this is a programming error
or a form that skipped validation). "Not in the register" is None or an empty tuple, never an error.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ztl.registries.facts import (
    AddressZone,
    BadgeFact,
    BusinessFact,
    ResidentFact,
    VehicleFact,
)


@runtime_checkable
class RegistryAdapter(Protocol):
    def resident(self, codice_fiscale: str) -> ResidentFact | None:
        """The person with this codice fiscale, any omocodic variant of it included."""
        ...

    def household(self, household_id: str) -> tuple[ResidentFact, ...]:
        """Every person registered in a household (family), ordered by codice fiscale."""
        ...

    def vehicle(self, plate: str) -> VehicleFact | None:
        """The vehicle with this plate (normalised: "ab 123-cd" is AB123CD)."""
        ...

    def vehicles_of(self, subject_id: str) -> tuple[VehicleFact, ...]:
        """Vehicles a person or firm owns or holds (leasing, company car), ordered by plate."""
        ...

    def zone_of_address(self, street: str, house_number: str) -> AddressZone:
        """The zone of an address: street by street_key, the number by range and parity."""
        ...

    def badges_of(self, codice_fiscale: str) -> tuple[BadgeFact, ...]:
        """The CUDE badges held by a person (any omocodic variant), latest expiry first."""
        ...

    def business(self, partita_iva: str) -> BusinessFact | None:
        """The firm with this partita IVA."""
        ...

    def representatives(self, partita_iva: str) -> tuple[str, ...]:
        """The person keys (codici fiscali without omocodia) of the firm's legal representatives."""
        ...

    def firms_represented_by(self, codice_fiscale: str) -> tuple[str, ...]:
        """The partite IVA of the firms the person (any omocodic variant) legally represents."""
        ...
