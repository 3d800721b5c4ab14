"""The /simulate form and its refusals in Italian (issue 21; issue 15 item 2): the strategies'
descriptions from the gettext catalogue, the populations from the pack's ``clinical_texts_it``
with their seroprevalence as Italian writes it. The report itself:
tests/simulation/test_simulation_report_i18n.py."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_form_and_its_refusals_in_italian(client: TestClient) -> None:
    client.cookies.set("lang", "it")
    form = client.get("/simulate").text
    assert "> Sierologia alla prima visita, ripetuta nelle donne sieronegative</label>" in form
    assert ">Puglia, 2016-2019, donne sotto i 25 anni (55,6%)</option>" in form
    refused = client.post("/simulate", data={"n": "10000000", "strategy": "hygiene"})
    assert refused.status_code == 422
    assert "n: deve essere compreso tra 1 e 50.000 in questa pagina (usare la CLI per valori maggiori)" in refused.text
    refused = client.post("/simulate", data={"seed": "uno"})
    assert "seed: atteso un numero intero, ricevuto &#39;uno&#39;" in refused.text
