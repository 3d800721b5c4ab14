"""H10: the HIV RNA on ART. An HIV RNA at or above the virologic-failure threshold (DHHS adult ART
guideline: failure to maintain < 200 copies/mL) means the ART response behind the CD4 recovery is
not secured; retinitis progressed after stopping CMV maintenance in a patient whose HIV viral load
rose and CD4 fell (Wohl 2005). The OI guideline's CMV decisions stay CD4-based (H5–H7); this rule
adds the alert, and a value below the threshold is named as read (nothing is dropped)."""

from __future__ import annotations

from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.engine.transplant.common import Tables, add_alert

__all__ = ["hiv_rna"]


def hiv_rna(result: PathwayResult, case: Case, on: date, t: Tables, on_art: bool | None) -> None:
    """``findings.hiv_rna`` (the latest value) and, on ART at or above the threshold, the
    ``hiv-virologic-failure`` alert."""
    rows = [o for o in case.results("hiv_rna") if o.date <= on]
    if not rows:
        return
    latest = rows[-1]
    shown = f"{latest.value.normalize():f} copies/mL" if latest.value is not None else latest.result
    result.findings["hiv_rna"] = {"value": shown, "date": latest.date.isoformat()}
    limit = t.hiv.virologic_failure_copies_ml
    if on_art is not True or latest.value is None or latest.value < limit.value:
        return
    result.cite(limit, "HIV virologic failure threshold")
    add_alert(
        result,
        AlertCode.HIV_VIROLOGIC_FAILURE,
        Severity.WARNING,
        f"HIV RNA {shown} on {latest.date} on ART: virologic failure (≥ {limit.value:f} copies/mL). "
        "The CD4 recovery that allows stopping CMV maintenance may not last: review ART "
        "(adherence, drug interactions, resistance testing) and keep ophthalmology follow-up (H10).",
        limit.citations,
    )
