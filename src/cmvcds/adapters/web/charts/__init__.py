"""Server-side SVG charts drawn from the assessment JSON and the case (no JavaScript).

timeline    ``pregnancy_timeline``: a gestational-age axis with the maternal-infection onset
            window, the protocol landmarks and the delivery (EDD), the courses given and planned
            (prevention, then in-utero treatment to delivery), the amniocentesis planned or done
            with its result, and the stop dates.
viral_load  ``viral_load_chart``: CMV DNA on a log10 axis, one series per specimen and unit
            (IU/mL and copies/mL are never merged), therapy bars underneath, nadir and alerts.

Each is drawn in a wide frame (screens, print) and a narrow one (a 390 px phone: labels keep
their size and move above their row). Every mark carries ``data-*`` attributes naming what it
shows, so tests and screen readers can find it; the numbers drawn are those of the JSON and the
case, nothing recomputed clinically.
"""

from cmvcds.adapters.web.charts.common import NARROW, WIDE, Frame
from cmvcds.adapters.web.charts.timeline import Landmark, pregnancy_timeline
from cmvcds.adapters.web.charts.viral_load import viral_load_chart

__all__ = ["NARROW", "WIDE", "Frame", "Landmark", "pregnancy_timeline", "viral_load_chart"]
