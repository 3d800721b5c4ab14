"""The screening policies compared (issue 21): who is tested when, and who is counselled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

from cmvcds.errors import InputError

__all__ = ["DEFAULT_REPEAT_WEEKS", "STRATEGIES", "Strategy", "strategies_named"]

DEFAULT_REPEAT_WEEKS = (16, 22)


@dataclass(frozen=True)
class Strategy:
    """A policy: serology at booking (and at ``repeat_weeks`` while seronegative), counselling.
    ``title`` names it on the report, ``label`` says what it does (both translated there)."""

    name: str
    title: str
    label: str
    screening: bool
    repeat_weeks: tuple[int, ...] = ()
    counselling: bool = False


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("no-screening", "No screening", "No screening (serology and amniocentesis only after an abnormal 20-week scan)", False),
        Strategy("first-trimester", "First-trimester serology", "IgG/IgM at booking, avidity reflex on IgM-positive", True),
        Strategy("repeated", "Repeated serology", "Booking serology, repeated in seronegative women", True, DEFAULT_REPEAT_WEEKS),
        Strategy("hygiene", "Hygiene counselling", "Hygiene counselling at booking, no serology", False, (), True),
    )
}  # fmt: skip


def strategies_named(names: list[str] | tuple[str, ...], repeat_weeks: tuple[int, ...] | None = None) -> tuple[Strategy, ...]:
    """The strategies ``names`` (``no-screening`` always first: it is the reference)."""
    if not names:
        raise InputError(f"no strategy given; choose from {', '.join(STRATEGIES)}", field="--strategies")
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise InputError(
            f"unknown strategy {unknown[0]!r}; choose from {', '.join(STRATEGIES)}", field="--strategies"
        )
    chosen = ["no-screening", *[n for n in dict.fromkeys(names) if n != "no-screening"]]
    result = []
    for name in chosen:
        s = STRATEGIES[name]
        if name == "repeated" and repeat_weeks:
            if any(not 4 <= w <= 36 for w in repeat_weeks):
                raise InputError("repeat weeks must lie between 4 and 36", field="--repeat-weeks")
            if any(a >= b for a, b in pairwise(repeat_weeks)):
                weeks = ",".join(map(str, repeat_weeks))
                raise InputError(f"repeat weeks must be given in ascending order without repeats, got {weeks}", field="--repeat-weeks")
            s = replace(s, repeat_weeks=tuple(repeat_weeks))
        result.append(s)
    return tuple(result)
