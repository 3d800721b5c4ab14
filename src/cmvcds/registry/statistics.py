"""Pure statistics for proportions and 2×2 tables, each result naming its method.

    wilson_ci      Wilson score interval of a proportion
    two_by_two     odds ratio with Woolf (log) 95% CI, Pearson χ² (no continuity correction),
                   Fisher exact (two-sided), risks in the exposed and unexposed

Layout of a 2×2 table (as ``cmvcds stats two-by-two A B C D`` takes it)::

                 event   no event
    exposed        a        b
    unexposed      c        d

Golden case (Shahar-Nissan 2020, valacyclovir vs placebo, transmission at amniocentesis):
``two_by_two(5, 40, 14, 33)`` → OR 0.2946, Woolf 95% CI 0.0961–0.9033, χ² p 0.0270, Fisher p 0.0386.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats  # type: ignore[import-untyped]

from cmvcds.errors import InputError

__all__ = ["Proportion", "TwoByTwo", "two_by_two", "wilson_ci"]

Z95 = float(stats.norm.ppf(0.975))  # 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """``events`` of ``total``, with a Wilson score 95% CI."""

    events: int
    total: int
    proportion: float | None
    ci95: tuple[float, float] | None
    ci_method: str = "wilson"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ci95"] = list(self.ci95) if self.ci95 else None
        return data


def wilson_ci(events: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval; None for an empty denominator."""
    _check_counts(events, total - events)
    if total == 0:
        return None
    p = events / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    low = 0.0 if events == 0 else max(0.0, centre - half)
    high = 1.0 if events == total else min(1.0, centre + half)
    return (low, high)


def proportion(events: int, total: int) -> Proportion:
    return Proportion(events, total, events / total if total else None, wilson_ci(events, total))


@dataclass(frozen=True)
class TwoByTwo:
    """The analysis of one 2×2 table; keys of ``as_dict`` are a stable output contract."""

    a: int
    b: int
    c: int
    d: int
    odds_ratio: float | None
    ci95: tuple[float, float] | None
    ci_method: str
    chi2: float | None
    chi2_p: float | None
    chi2_method: str
    fisher_p: float
    fisher_method: str
    risk_exposed: Proportion
    risk_unexposed: Proportion

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": {"exposed": [self.a, self.b], "unexposed": [self.c, self.d]},
            "odds_ratio": self.odds_ratio,
            "ci95": list(self.ci95) if self.ci95 else None,
            "ci_method": self.ci_method,
            "chi2": self.chi2,
            "chi2_p": self.chi2_p,
            "chi2_method": self.chi2_method,
            "fisher_p": self.fisher_p,
            "fisher_method": self.fisher_method,
            "risk_exposed": self.risk_exposed.proportion,
            "risk_exposed_ci95": list(self.risk_exposed.ci95) if self.risk_exposed.ci95 else None,
            "risk_unexposed": self.risk_unexposed.proportion,
            "risk_unexposed_ci95": list(self.risk_unexposed.ci95)
            if self.risk_unexposed.ci95
            else None,
            "risk_ci_method": "wilson",
        }


def two_by_two(a: int, b: int, c: int, d: int) -> TwoByTwo:
    """OR (Woolf CI; Haldane +0.5 to every cell when one is zero), Pearson χ², Fisher exact."""
    _check_counts(a, b, c, d)
    if a + b == 0 or c + d == 0:
        raise InputError("each row of the 2×2 table needs at least one subject", field="table")
    cells = (a, b, c, d)
    method = "woolf"
    if 0 in cells:
        cells = tuple(x + 0.5 for x in cells)  # type: ignore[assignment]
        method = "woolf-haldane"
    ca, cb, cc, cd = cells
    odds = (ca * cd) / (cb * cc)
    se = math.sqrt(sum(1 / x for x in cells))
    ci = (math.exp(math.log(odds) - Z95 * se), math.exp(math.log(odds) + Z95 * se))
    chi2, chi2_p = _pearson(a, b, c, d)
    fisher_p = float(stats.fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)
    return TwoByTwo(
        a, b, c, d,
        odds_ratio=odds, ci95=ci, ci_method=method,
        chi2=chi2, chi2_p=chi2_p, chi2_method="pearson-uncorrected",
        fisher_p=min(1.0, fisher_p), fisher_method="fisher-exact-two-sided",
        risk_exposed=proportion(a, a + b), risk_unexposed=proportion(c, c + d),
    )  # fmt: skip


def _pearson(a: int, b: int, c: int, d: int) -> tuple[float | None, float | None]:
    """Pearson χ² without continuity correction; undefined when a margin is zero."""
    n = a + b + c + d
    margins = ((a + b), (c + d), (a + c), (b + d))
    if 0 in margins:
        return None, None
    chi2 = n * (a * d - b * c) ** 2 / math.prod(margins)
    return chi2, float(stats.chi2.sf(chi2, 1))


def _check_counts(*counts: int) -> None:
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InputError(f"{count!r} is not a count (a whole number ≥ 0)", field="table")
