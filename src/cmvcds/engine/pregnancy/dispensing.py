"""The quantity a hospital pharmacy dispenses for a planned valacyclovir course (Law 648/96 dossier).

From the regimen (dose and interval), the first and last day of the planned course (both
included: a course planned to 26+0 is dispensed to 26+0, the stop rule may end it earlier), the
tablet strength and the packs marketed at that strength (``pregnancy/law648.yaml``): the tablets
per dose and per day, the tablets for the course and, for each pack size, how many packs cover it
and how many tablets are left over. Pure: no clock, no I/O.

Worked example (the AIFA regimen, 2 g every 6 h): 500 mg tablets give 4 per dose, 16 a day; a
course from 2026-03-02 to 2026-06-20 is 111 days, 1,776 tablets, 43 packs of 42 (30 left over).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.errors import InputError
from cmvcds.knowledge.schemas.pregnancy import MarketedPack

__all__ = ["Dispensing", "PackCount", "quantity_to_dispense"]


@dataclass(frozen=True)
class PackCount:
    """``packs`` packs of ``pack`` cover the course, ``left_over`` tablets to spare."""

    pack: MarketedPack
    packs: int
    left_over: int


@dataclass(frozen=True)
class Dispensing:
    """The tablets of one strength for one planned course, and the packs that hold them."""

    strength_mg: Decimal
    first_day: date
    last_day: date
    days: int
    tablets_per_dose: int
    doses_per_day: int
    tablets_per_day: int
    tablets: int
    packs: tuple[PackCount, ...]


def quantity_to_dispense(
    dose_mg: Decimal,
    every_h: int,
    first_day: date,
    last_day: date,
    strength_mg: Decimal,
    packs: list[MarketedPack],
) -> Dispensing:
    """The tablets of ``strength_mg`` for ``dose_mg`` every ``every_h`` hours from ``first_day``
    to ``last_day`` (both included), and for each of ``packs`` how many cover them.

    A dose that is not a whole number of tablets, an interval that does not divide the day, or
    a course that ends before it starts is refused (InputError): the pharmacy must not be given
    a rounded quantity silently.
    """
    if strength_mg <= 0 or dose_mg <= 0:
        raise InputError("the dose and the tablet strength must be positive", field="dose_mg")
    per_dose = dose_mg / strength_mg
    if per_dose != per_dose.to_integral_value():
        raise InputError(
            f"{dose_mg} mg is not a whole number of {strength_mg} mg tablets", field="dose_mg"
        )
    if every_h <= 0 or 24 % every_h:
        raise InputError(f"every {every_h} h does not divide the day", field="every_h")
    if last_day < first_day:
        raise InputError(
            f"the course ends ({last_day}) before it starts ({first_day})", field="stop"
        )
    days = (last_day - first_day).days + 1
    doses_per_day = 24 // every_h
    tablets_per_day = int(per_dose) * doses_per_day
    tablets = tablets_per_day * days
    counts = []
    for pack in packs:
        if pack.strength_mg != strength_mg:
            continue
        needed = math.ceil(tablets / pack.units)
        counts.append(PackCount(pack, needed, needed * pack.units - tablets))
    return Dispensing(
        strength_mg=strength_mg,
        first_day=first_day,
        last_day=last_day,
        days=days,
        tablets_per_dose=int(per_dose),
        doses_per_day=doses_per_day,
        tablets_per_day=tablets_per_day,
        tablets=tablets,
        packs=tuple(counts),
    )
