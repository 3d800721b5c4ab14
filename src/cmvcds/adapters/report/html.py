"""The assessment as one self-contained, printable HTML page (``cmvcds assess --format html``).

The same template the web app shows, with the stylesheet inlined (print CSS included) so that
the file opens anywhere and prints as the one-page summary for the 648/96 dossier.
"""

from __future__ import annotations

from typing import Any

from cmvcds.adapters.web.calendar import monitoring_calendar
from cmvcds.adapters.web.charts import NARROW, WIDE, Landmark, pregnancy_timeline, viral_load_chart
from cmvcds.adapters.web.render import STATIC_DIR, render
from cmvcds.adapters.web.summary import clinical_view

__all__ = ["assessment_html", "assessment_parts"]


def assessment_parts(
    doc: dict[str, Any], case: dict[str, Any] | None = None, landmarks: tuple[Landmark, ...] = ()
) -> dict[str, Any]:
    """The template context of an assessment: the document, its charts (SVG or None; each in a
    wide and a narrow frame, the page shows the one that fits) and the infant's calendar."""
    pregnancy = doc.get("context") == "pregnancy"
    return {
        "doc": doc,
        "timeline": pregnancy_timeline(doc, landmarks, case) if pregnancy else None,
        "timeline_narrow": pregnancy_timeline(doc, landmarks, case, NARROW) if pregnancy else None,
        "viral_load": viral_load_chart(doc, case, WIDE),
        "viral_load_narrow": viral_load_chart(doc, case, NARROW),
        "view": clinical_view(doc),
        "calendar": monitoring_calendar(doc),
    }


def assessment_html(doc: dict[str, Any], case: dict[str, Any] | None = None) -> str:
    """A standalone HTML page of a ``cmvcds-assessment/1`` document (and its case, for charts)."""
    css = (STATIC_DIR / "cmvcds.css").read_text(encoding="utf-8")
    return render("report.html", css=css, source_base="", **assessment_parts(doc, case))
