"""The clinician's pages (server-rendered): case entry with the CLI's messages on each field,
upload of a case or a FHIR Bundle, the assessment page with its charts, dose and resistance
pages, and the knowledge browser."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from cmvcds.domain.case import parse_case
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]

#: The design.md §3 case as a clinician types it into the form (rows 0, 1, 2 and 5 used).
FORM = {
    "format": "cmvcds-case/1",
    "context": "pregnancy",
    "id": "form-01",
    "assessed_on": "2026-03-02",
    "patient.sex": "female",
    "patient.birth_date": "1992-04-11",
    "patient.weight_kg": "64",
    "patient.height_cm": "166",
    "pregnancy.lmp": "2025-12-20",
    "pregnancy.fetuses": "1",
    "observations[0].date": "2026-01-10",
    "observations[0].code": "cmv_igg",
    "observations[0].result": "negative",
    "observations[1].date": "2026-02-20",
    "observations[1].code": "cmv_igg",
    "observations[1].result": "positive",
    "observations[2].date": "2026-02-20",
    "observations[2].code": "cmv_igm",
    "observations[2].result": "positive",
    "observations[3].date": "",
    "observations[3].code": "",
    "observations[3].result": "",
    "observations[5].date": "2026-02-20",
    "observations[5].code": "creatinine",
    "observations[5].value": "0.62",
    "observations[5].unit": "mg/dL",
    "ultrasound[0].date": "2026-02-27",
    "ultrasound[0].findings": "",
}


def test_home_new_case_form_and_names_are_case_paths(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    page = client.get("/cases/new?context=pregnancy").text
    for name in (
        "patient.weight_kg",
        "pregnancy.lmp",
        "observations[0].code",
        "observations[7].unit",
        "therapy[1].start",
    ):
        assert f'name="{name}"' in page
    assert 'hx-post="/cases/validate"' in page and "/static/htmx-2.0.11.min.js" in page
    assert client.get("/cases/new?context=hiv").status_code == 200


def test_a_valid_form_is_stored_and_assessed_with_its_timeline(client: TestClient) -> None:
    response = client.post("/cases", data=FORM, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert 'data-decision="valacyclovir-prevention" data-outcome="recommended"' in page
    assert 'data-event="amniocentesis" data-earliest="2026-05-10"' in page  # schedule table
    svg = re.search(r'<svg class="chart timeline".*?</svg>', page, re.S)
    assert svg is not None
    timeline = svg.group(0)
    assert 'data-event="amniocentesis" data-date="2026-05-10"' in timeline
    assert 'data-event="onset-window" data-start="2026-01-11" data-end="2026-02-20"' in timeline
    assert (
        'data-event="treatment" data-drug="valacyclovir" data-start="2026-03-02" data-stop="2026-06-20"'
        in timeline
    )
    for landmark in ("20+1", "24+0", "26+0"):
        assert f'data-landmark="{landmark}"' in timeline
    assert 'data-event="today" data-date="2026-03-02"' in timeline


def test_a_bad_field_shows_the_clis_message_beside_it(
    client: TestClient, knowledge: Knowledge
) -> None:
    form = FORM | {"patient.weight_kg": "900", "observations[5].unit": "mg"}
    response = client.post("/cases", data=form)
    assert response.status_code == 422
    raw = {
        "id": "form-01",
        "context": "pregnancy",
        "assessed_on": "2026-03-02",
        "patient": {"weight_kg": 900},
    }
    try:
        parse_case(raw, knowledge, today=TODAY)
    except CaseFormatError as error:
        cli_message = error.problems[0].split(": ", 1)[1]  # type: ignore[attr-defined]
    assert cli_message == "900 kg is implausible (accepted range 0.3–350 kg)"
    span = re.search(
        r'id="err-patient-weight-kg" data-field="patient.weight_kg">([^<]*)<', response.text
    )
    assert span is not None and span.group(1) == cli_message
    # The unit problem is on row 5 as typed, although row 3 was empty and dropped.
    row = re.search(
        r'id="err-observations-5-unit" data-field="observations\[5\].unit">([^<]*)<', response.text
    )
    assert row is not None and row.group(1).startswith(
        "&#39;mg&#39; is not accepted for creatinine"
    )
    assert (
        "observations[5].unit: " in response.text
    )  # the summary list, field first as the CLI prints
    assert 'value="900"' in response.text  # what was typed is kept


def test_live_validation_returns_every_field_slot(client: TestClient) -> None:
    response = client.post("/cases/validate", data=FORM | {"pregnancy.fetuses": "9"})
    assert response.status_code == 200
    assert (
        'id="err-pregnancy-fetuses" data-field="pregnancy.fetuses" hx-swap-oob="true">'
        in response.text
    )
    assert "implausible" in response.text
    ok = client.post("/cases/validate", data=FORM).text
    assert "No problems found so far." in ok
    assert (
        'id="err-patient-weight-kg" data-field="patient.weight_kg" hx-swap-oob="true"></span>' in ok
    )


def test_upload_a_case_file_and_a_fhir_bundle(client: TestClient) -> None:
    example = (ROOT / "examples" / "pregnancy.yaml").read_bytes()
    response = client.post(
        "/cases/upload", files={"file": ("pregnancy.yaml", example)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "demo-pregnancy-01" in client.get(response.headers["location"]).text
    prefetch = json.loads(
        (
            ROOT / "tests" / "cdshooks" / "fixtures" / "pregnancy-valacyclovir.request.json"
        ).read_text()
    )["prefetch"]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": prefetch["patient"]}, *prefetch["observations"]["entry"]],
    }
    response = client.post(
        "/cases/upload",
        files={"file": ("bundle.json", json.dumps(bundle).encode())},
        data={"context": "pregnancy"},
        follow_redirects=False,
    )
    assert response.status_code == 200  # shown at once, with what was not used
    page = response.text
    assert "fhir-p-preg-1" in page and 'data-outcome="recommended"' in page
    assert (
        "Not used from bundle.json: entry[11].resource: Observation code http://loinc.org|1234-5"
        in page
    )
    bad = client.post("/cases/upload", files={"file": ("case.yaml", b"id: [unclosed")})
    assert bad.status_code == 422 and "case.yaml: not valid YAML" in bad.text


def test_assessment_json_and_case_file_downloads(client: TestClient) -> None:
    location = client.post("/cases", data=FORM, follow_redirects=False).headers["location"]
    document = client.get(f"{location}/assessment.json").json()
    assert document["case_id"] == "form-01" and document["format"] == "cmvcds-assessment/1"
    assert "id: form-01" in client.get(f"{location}/case.yaml").text
    assert client.get("/cases/999").status_code == 404


def test_dose_page_explains_the_calculation(client: TestClient) -> None:
    form = {
        "drug": "valganciclovir",
        "indication": "induction",
        "patient.age_years": "60",
        "patient.sex": "male",
        "patient.weight_kg": "70",
        "patient.height_cm": "175",
        "patient.creatinine": "1.4",
        "patient.creatinine_unit": "mg/dL",
    }
    page = client.post("/dose", data=form)
    assert page.status_code == 200
    assert 'data-renal="method">cockcroft-gault<' in page.text
    assert 'data-regimen="dose_mg">450<' in page.text
    assert "/knowledge/sources/valcyte-us-label" in page.text
    bad = client.post("/dose", data=form | {"patient.weight_kg": "900"})
    assert bad.status_code == 422 and "patient.weight_kg: 900 kg is implausible" in bad.text


def test_resistance_page(client: TestClient) -> None:
    page = client.post("/resistance", data={"mutations": "UL97:M460V"})
    assert page.status_code == 200 and 'data-drug="ganciclovir"' in page.text
    assert client.post("/resistance", data={"mutations": ""}).status_code == 422


def test_knowledge_browser(client: TestClient, knowledge: Knowledge) -> None:
    page = client.get("/knowledge", params={"q": "avidity"}).text
    assert knowledge.version in page and 'data-hit="fhir_valuesets"' in page
    source = client.get("/knowledge/sources/aifa2020-648-valacyclovir").text
    assert "gazzettaufficiale.it" in source
    table = client.get("/knowledge/tables/fhir_valuesets").text
    assert "52984-2" in table and "Generated; do not edit." in table
    assert 'href="/knowledge/sources/loinc-terminology"' in table
    assert client.get("/knowledge/tables/nope").status_code == 404


def test_infant_form_reaches_the_congenital_pathway(client: TestClient) -> None:
    # A symptomatic newborn (microcephaly, thrombocytopenia), CMV in urine on day 4, 20 days old:
    # within the first month, valganciclovir is recommended (Kimberlin 2015).
    page = client.get("/cases/new?context=congenital").text
    assert (
        'name="congenital.gestational_age_at_birth"' in page and 'name="pregnancy.lmp"' not in page
    )
    form = {
        "format": "cmvcds-case/1", "context": "congenital", "id": "infant-01", "assessed_on": "2026-11-21",
        "patient.sex": "male", "patient.birth_date": "2026-11-01", "patient.weight_kg": "3.3",
        "congenital.gestational_age_at_birth": "39+0", "congenital.birth_weight_kg": "3.2",
        "congenital.diagnosis.date": "2026-11-05", "congenital.diagnosis.specimen": "urine",
        "congenital.manifestations": "microcephaly, thrombocytopenia", "congenital.hearing": "bilateral_snhl",
        "observations[0].date": "2026-11-05", "observations[0].code": "cmv_dna",
        "observations[0].specimen": "urine", "observations[0].result": "detected",
    }  # fmt: skip
    response = client.post("/cases", data=form, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert 'data-decision="valganciclovir-congenital" data-outcome="recommended"' in page
    bad = client.post(
        "/cases", data=form | {"congenital.manifestations": "microcephaly, blue_skin"}
    )
    assert bad.status_code == 422
    assert "congenital.manifestations[1]: unknown manifestation &#39;blue_skin&#39;" in bad.text


def test_infant_form_records_follow_up_results(client: TestClient) -> None:
    """Follow-up rows of the congenital form reach the rules: the left ear 20 -> 40 dB HL is a
    new hearing loss (Lanzieri 2017: >= 25 dB HL); a hearing row without its ear is refused on
    that row (ADR 0018)."""
    page = client.get("/cases/new?context=congenital").text
    assert 'name="congenital.follow_up[5].threshold_db"' in page
    assert '<option value="left">' in page and '<option value="abnormal">' in page
    form = {
        "format": "cmvcds-case/1", "context": "congenital", "id": "infant-fu", "assessed_on": "2026-11-21",
        "patient.sex": "female", "patient.birth_date": "2026-01-10", "patient.weight_kg": "8.5",
        "congenital.gestational_age_at_birth": "39+0", "congenital.birth_weight_kg": "3.2",
        "congenital.diagnosis.date": "2026-01-12", "congenital.diagnosis.specimen": "urine",
        "congenital.hearing": "normal",
        "congenital.follow_up[0].date": "2026-04-10", "congenital.follow_up[0].assessment": "hearing",
        "congenital.follow_up[0].ear": "left", "congenital.follow_up[0].threshold_db": "20",
        "congenital.follow_up[1].date": "2026-11-10", "congenital.follow_up[1].assessment": "hearing",
        "congenital.follow_up[1].ear": "left", "congenital.follow_up[1].threshold_db": "40",
    }  # fmt: skip
    response = client.post("/cases", data=form, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert 'data-alert="hearing-deterioration"' in page
    bad = client.post("/cases", data=form | {"congenital.follow_up[1].ear": ""})
    assert bad.status_code == 422
    assert "a hearing result needs ear" in bad.text


def test_transplant_form_reaches_the_transplant_pathway(client: TestClient) -> None:
    form = {
        "format": "cmvcds-case/1", "context": "transplant", "id": "ktx-01", "assessed_on": "2026-11-21",
        "patient.sex": "female", "patient.birth_date": "1970-02-03", "patient.weight_kg": "68",
        "transplant.organ": "kidney", "transplant.date": "2026-11-01",
        "transplant.donor_cmv_igg": "positive", "transplant.recipient_cmv_igg": "negative",
    }  # fmt: skip
    response = client.post("/cases", data=form, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert 'data-decision="antiviral-prophylaxis"' in page
    # no site settings file: the drug comes from the cited reference profile, and the page says so
    assert 'data-setting="kidney_dpos_rneg_drug" data-origin="reference-profile"' in page
    assert "/knowledge/sources/humar2010-ajt-impact" in page
    assert client.get("/cases/new?context=martian").status_code == 404


def test_resistance_page_takes_a_sequence_file(client: TestClient) -> None:
    vcf = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    response = client.post(
        "/resistance", files={"sequence": ("s.vcf", vcf)}, data={"mutations": ""}
    )
    assert response.status_code in (200, 422)
    assert "Traceback" not in response.text
    # A FASTA that covers no resistance gene: every drug is reported not assessed, none susceptible.
    uncovered = client.post(
        "/resistance", files={"sequence": ("s.fasta", b">x\nNNNNNNNN\n")}, data={"mutations": ""}
    )
    assert uncovered.status_code == 200
    levels = re.findall(r'<tr data-drug="[a-z]+" class="level-([a-z_]+)">', uncovered.text)
    assert levels and set(levels) == {"not_assessed"}


def test_pregnancy_case_links_its_law_648_dossier(client: TestClient) -> None:
    """The dossier the prescribing physician files: decision, dose, dates, consent, sources."""
    location = client.post("/cases", data=FORM, follow_redirects=False).headers["location"]
    assert f'href="{location}/dossier"' in client.get(location).text
    dossier = client.get(f"{location}/dossier")
    assert dossier.status_code == 200
    for fact in ("648/96", "2000 mg", "2026-05-10", "2026-06-20", "consent"):
        assert fact in dossier.text, fact


def test_an_uploaded_bundle_is_read_for_its_one_patient_only(client: TestClient) -> None:
    """PROBE1 D4 for the Bundle upload: a result of another patient is not used and is named;
    a Bundle holding two patients' records is refused whole (which is whose is not guessed)."""
    prefetch = json.loads(
        (
            ROOT / "tests" / "cdshooks" / "fixtures" / "pregnancy-valacyclovir.request.json"
        ).read_text()
    )["prefetch"]
    creatinine = next(
        e for e in prefetch["observations"]["entry"] if e["resource"]["id"] == "obs-8"
    )
    stray = {
        **creatinine["resource"],
        "id": "stray-cr",
        "subject": {"reference": "Patient/someone-else"},
        "effectiveDateTime": "2026-11-20",
        "valueQuantity": {**creatinine["resource"]["valueQuantity"], "value": 1.5},
    }
    entries = [{"resource": prefetch["patient"]}, *prefetch["observations"]["entry"]]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [*entries, {"resource": stray}],
    }
    response = client.post(
        "/cases/upload",
        files={"file": ("bundle.json", json.dumps(bundle).encode())},
        data={"context": "pregnancy"},
        follow_redirects=False,
    )
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert 'data-outcome="recommended"' in page  # her own creatinine 0.62, not his 1.5
    assert (
        "Observation/stray-cr not used: its subject 'Patient/someone-else' is another patient, "
        "not Patient/p-preg-1"
    ) in page
    other = {**prefetch["patient"], "id": "someone-else"}
    bundle["entry"].append({"resource": other})
    refused = client.post(
        "/cases/upload",
        files={"file": ("bundle.json", json.dumps(bundle).encode())},
        data={"context": "pregnancy"},
    )
    assert refused.status_code == 422
    assert "records of 2 patients (p-preg-1, someone-else)" in html.unescape(refused.text)
