"""The "what to do now" line of a running course (probe8 R4): a neonatologist read "Give
valganciclovir 99.2 mg (16 mg/kg) on the weight of 2026-12-01, 6.2 kg by mouth twice daily from
2026-08-05", the course's first day four months back, for a dose re-computed on today's weight,
and no volume of the oral solution. The dose is 16 mg/kg × 6.2 kg = 99.2 mg twice daily
(Kimberlin 2015), 1.98 mL of the 50 mg/mL solution; it is given from the assessment's date."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.summary import clinical_view
from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge

CASE = """format: cmvcds-case/1
id: probe8-infant
assessed_on: '2026-12-07'
context: congenital
patient: {sex: male, birth_date: '2026-08-01', weight_kg: 6.2}
congenital:
  gestational_age_at_birth: 38+2
  birth_weight_kg: 3.2
  diagnosis: {date: '2026-08-03', specimen: urine}
  manifestations: [microcephaly]
observations:
  - {date: '2026-09-01', code: weight, value: 4.0, unit: kg}
  - {date: '2026-10-01', code: weight, value: 4.8, unit: kg}
  - {date: '2026-11-01', code: weight, value: 5.5, unit: kg}
  - {date: '2026-12-01', code: weight, value: 6.2, unit: kg}
  - {date: '2026-12-01', code: anc, value: 1500, unit: cells/uL}
  - {date: '2026-12-01', code: creatinine, value: 0.3, unit: mg/dL}
therapy:
  - {drug: valganciclovir, dose_mg: 51, every_h: 12, route: oral, start: '2026-08-05'}
"""


def _todo(knowledge: Knowledge, language: str) -> list[str]:
    raw: dict[str, Any] = yaml.safe_load(CASE)
    case = parse_case(raw, knowledge, today=date(2026, 12, 7))
    document = assess(case, knowledge).to_dict()
    token = i18n.set_language(language)
    try:
        return clinical_view(document).todo
    finally:
        i18n.reset_language(token)


def test_a_running_course_is_given_from_today_with_its_volume(knowledge: Knowledge) -> None:
    line = next(t for t in _todo(knowledge, "en") if t.startswith("Give valganciclovir"))
    assert "99.2 mg (16 mg/kg; 1.98 mL of the oral solution)" in line
    assert "from 2026-12-07 (course started 2026-08-05) to 2027-02-05" in line
    italian = next(t for t in _todo(knowledge, "it") if t.startswith("Somministrare"))
    assert "1.98 mL della soluzione orale" in italian
    assert "dal 2026-12-07 (ciclo iniziato il 2026-08-05)" in italian
