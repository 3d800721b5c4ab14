"""No Law 648/96 dossier, PDF or consent form for a case that does not qualify (probe10 W1),
and the Italian documents' dates in the Italian form (probe10 R5).

The AIFA listing (Determina 16-12-2020, GU 30-12-2020) covers valacyclovir for a primary
maternal infection (prevention) or a mildly/moderately affected infected fetus (in-utero
treatment), with exclusions (creatinine > 1.1 mg/dL, GFR < 90 mL/min, age < 12). The example
``pregnancy-non-primary.yaml`` has a high IgG avidity (non-primary: not indicated, A1/A2) and
``pregnancy-excluded-renal.yaml`` a creatinine of 1.24 mg/dL (excluded, A7): neither may get a
document that could be signed or dispensed from.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.test_dossier_pharmacy import NAME, TAX_CODE, _text, _upload

NOT_QUALIFYING = {
    "pregnancy-non-primary.yaml": ("not_indicated", "non-primary infection"),
    "pregnancy-excluded-renal.yaml": ("excluded", "1.1 mg/dL: excluded (rule A7)"),
}
TYPED = {
    "patient_name": NAME,
    "birth_date": "1992-04-11",
    "tax_code": TAX_CODE,
    "hospital": "Ospedale San Gerardo",
    "ward": "Ostetricia B",
    "prescriber": "Dr.ssa Lucrezia Fantozzi",
}
#: What makes a page a document to file, sign or dispense from.
PRINTABLE = (
    "data-print=",
    "<form",
    "Written informed consent",
    "I, the undersigned",
    "Quantity to dispense",
    "acquired shortly before or during this pregnancy",
)


@pytest.mark.parametrize("example", sorted(NOT_QUALIFYING))
def test_no_dossier_pdf_or_consent_for_a_case_that_does_not_qualify(
    client: TestClient, example: str
) -> None:
    outcome, reason = NOT_QUALIFYING[example]
    location = _upload(client, example)
    assessment = client.get(location).text
    assert f'href="{location}/dossier.pdf"' not in assessment
    assert f'href="{location}/dossier" data-dossier="refused">No Law 648/96 dossier (why)' in (
        assessment
    )
    for method, path in (("GET", "/dossier"), ("POST", "/dossier"), ("POST", "/dossier.pdf"),
                         ("POST", "/consent?lang=it"), ("GET", "/consent?lang=en")):  # fmt: skip
        answer = client.request(method, location + path, data=TYPED if method == "POST" else None)
        assert answer.status_code == 409, (path, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html"), path
        page = answer.text
        assert 'data-dossier="refused"' in page, path
        assert "No Law 648/96 dossier: valacyclovir is not recommended for this case" in page
        assert 'data-decision="valacyclovir-prevention"' in page
        assert f'data-outcome="{outcome}"' in page, path
        assert reason in page, path
        for printable in PRINTABLE:
            assert printable not in page, (path, printable)
        for typed in (NAME, TAX_CODE, "Fantozzi"):  # nothing typed is printed
            assert typed not in page, (path, typed)


def test_the_refusal_in_italian(client: TestClient) -> None:
    location = _upload(client, "pregnancy-non-primary.yaml")
    client.cookies.set("lang", "it")
    page = client.get(location + "/dossier")
    assert page.status_code == 409
    text = _text(page.text)
    assert "Nessun dossier Legge 648/96: il valaciclovir non è raccomandato per questo caso" in text
    assert "non indicato" in text.lower()
    assert "Io sottoscritta" not in client.post(location + "/consent?lang=it", data=TYPED).text


def test_a_qualifying_case_still_gets_its_dossier_and_consent(client: TestClient) -> None:
    location = _upload(client, "pregnancy.yaml")
    assert f'href="{location}/dossier.pdf"' in client.get(location).text
    assert client.get(location + "/dossier").status_code == 200
    consent = client.post(location + "/consent?lang=it", data=TYPED)
    assert consent.status_code == 200 and "Io sottoscritta" in consent.text


ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def test_the_italian_dossier_and_consent_print_dates_as_dd_mm_yyyy(client: TestClient) -> None:
    """The prevention course of ``pregnancy.yaml``: 2 g every 6 h from 2026-03-02 to 26+0
    (2026-06-20), amniocentesis from 2026-05-10; in Italian, 02/03/2026, 20/06/2026, 10/05/2026;
    the birth date typed as ISO is printed 11/04/1992. English keeps ISO."""
    location = _upload(client, "pregnancy.yaml")
    english = _text(client.post(location + "/dossier", data=TYPED).text)
    assert "from 2026-03-02 to 2026-06-20" in english
    client.cookies.set("lang", "it")
    page = client.post(location + "/dossier", data=TYPED).text
    body = _text(page.split("</style>", 1)[1])
    assert "02/03/2026" in body and "20/06/2026" in body and "10/05/2026" in body
    assert '<td data-print="birth_date">11/04/1992</td>' in page
    printed = body.split("Fill in the dossier")[-1].split("Compila il dossier")[-1]
    assert not ISO.findall(printed), ISO.findall(printed)[:5]
    consent = client.post(location + "/consent?lang=it", data=TYPED).text
    assert "02/03/2026" in consent and not ISO.findall(_text(consent.split("</style>", 1)[1]))
    # the machine outputs keep ISO
    assert '"start": "2026-03-02"' in client.get(location + "/assessment.json").text
