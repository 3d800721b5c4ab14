"""What a clinician reads first: "What to do now" at the top of the assessment, alerts most
urgent first, unverified facts behind a toggle; the dose calculator's instruction line.

Expected values are worked from the sources: Valcyte US label §2.5 Table 2 (kidney
prophylaxis, CrCl 40–59 mL/min: 450 mg once daily to day 200); Kimberlin 2015 (congenital CMV:
16 mg/kg twice daily for 6 months; 3.2 kg → 51.2 mg = 1.02 mL of the 50 mg/mL solution);
AIFA 648/96 (creatinine above 1.1 mg/dL excludes valacyclovir: a critical alert)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


def _upload(client: TestClient, name: str) -> str:
    path = ROOT / "examples" / name
    with path.open("rb") as handle:
        posted = client.post(
            "/cases/upload", files={"file": (name, handle)}, follow_redirects=False
        )
    assert posted.status_code == 303
    return client.get(posted.headers["location"]).text


def test_critical_alert_first_and_in_what_to_do_now(client: TestClient) -> None:
    page = _upload(client, "pregnancy-excluded-renal.yaml")
    todo = page.index('id="todo"')
    assert todo < page.index('class="decisions"')
    severities = re.findall(r'data-severity="(\w+)"', page)
    assert severities[0] == "critical"
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)
    todo_box = page[todo : page.index("</section>", todo)]
    assert "creatinine" in todo_box.lower()
    assert "unverified-fact" not in page[todo : page.index('id="unverified"')]
    assert "<details>" in page[page.index('id="unverified"') :]


def _dose(client: TestClient, **form: str) -> str:
    page = client.post("/dose", data=form)
    assert page.status_code == 200, page.text[-1500:]
    found = re.search(r'<p id="instruction" class="instruction">([^<]*)</p>', page.text)
    assert found, "no instruction line"
    return found.group(1)


def test_instruction_line_kidney_prophylaxis(client: TestClient) -> None:
    form = {
        "drug": "valganciclovir",
        "indication": "prophylaxis",
        "organ": "kidney",
        "patient.age_years": "54",
        "patient.sex": "male",
        "patient.weight_kg": "80",
        "patient.creatinine": "1.8",
        "patient.creatinine_unit": "mg/dL",
    }
    assert _dose(client, **form) == (
        "Give 450 mg by mouth once daily until day 200 after transplantation."
    )
    # Without the organ the label cannot choose its row: the page says what is missing.
    no_organ = client.post("/dose", data={k: v for k, v in form.items() if k != "organ"}).text
    assert "transplant.organ" in no_organ
    # A measured clearance of 30 mL/min beside the creatinine's Cockcroft-Gault 53 mL/min: other
    # bands, no dose on either (probe11 S4); the measured value alone: the 25–39 band.
    both = client.post("/dose", data={**form, "crcl_measured": "30"}).text
    assert "Contradictory renal function" in both and 'id="instruction"' not in both
    alone = {k: v for k, v in form.items() if k != "patient.creatinine"}
    assert _dose(client, **alone, crcl_measured="30").startswith("Give 450 mg by mouth every 2 days")


def test_instruction_line_congenital_in_mg_per_kg_and_ml(client: TestClient) -> None:
    line = _dose(
        client,
        drug="valganciclovir",
        indication="congenital",
        **{"patient.birth_date": "2026-11-01", "patient.weight_kg": "3.2"},
    )
    assert line.startswith(
        "Give 51.2 mg (16 mg/kg; 1.02 mL of the oral solution) by mouth twice daily"
    )


def test_a_decision_that_waits_says_what_it_waits_for(client: TestClient) -> None:
    """A seroconversion without the renal results (AIFA 648/96 rule A7 needs creatinine and
    GFR before valacyclovir): "What to do now" gives the missing results as the reason, not the
    seroconversion that comes first among the decision's reasons (an outside probe's finding)."""
    text = (ROOT / "examples" / "pregnancy.yaml").read_text(encoding="utf-8")
    kept = "\n".join(
        line for line in text.splitlines() if "creatinine" not in line and "egfr" not in line
    )
    posted = client.post(
        "/cases/upload", files={"file": ("no-renal.yaml", kept.encode())}, follow_redirects=False
    )
    assert posted.status_code == 303
    page = client.get(posted.headers["location"]).text
    todo_box = page[page.index('id="todo"') : page.index("</section>", page.index('id="todo"'))]
    line = next(li for li in todo_box.split("<li") if "cannot be decided yet" in li)
    assert "creatinine" in line and "GFR" in line, line
    assert "seroconversion" not in line, line


def test_regimens_table_shows_the_hold_and_the_weight_date(client: TestClient) -> None:
    """c3d (outside probe): valganciclovir held since 2026-03-24 (ANC 740 < 750): its row in the
    Regimens table says it is on hold and names the weight the dose used (3.4 kg on 2026-03-23)."""
    path = ROOT / "tests" / "outside_probe" / "cases" / "c3d-resume740.yaml"
    posted = client.post(
        "/cases/upload", files={"file": (path.name, path.read_bytes())}, follow_redirects=False
    )
    assert posted.status_code == 303
    page = client.get(posted.headers["location"]).text
    table = page[page.index('class="regimens"') :]
    start = table.index('data-regimen="valganciclovir"')
    row = table[start : table.index("</tr>", start)]
    assert "on hold — dose when restarted" in row
    assert "held since 2026-03-24 for toxicity" in row
    assert "on the weight of 2026-03-23, 3.4 kg" in row
