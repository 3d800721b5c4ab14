"""Names written without a title: "Maria Rossi", "ROSSI Maria" (probe12 #7, review11 W2).

review11 saved the adverse-event terms "Rash - ROSSI Maria" (the usual Italian SURNAME Name
order), "Rash - Maria Rossi" and "Rash, seen by mother Maria Rossi at home" with no warning, and
found them verbatim in the REDCap, ODM and FHIR central exports. The screen now knows common
given names (``given_names.py``): each is refused at entry (a name may be a false alarm, so the
user may confirm it), and a value stored anyway (confirmed, or before the screen) is withheld
from every central export. Clinical and drug words are not taken for names (tested both ways).
"""

from __future__ import annotations

import pytest

from cmvcds.registry import exports
from cmvcds.registry.free_text import WITHHELD_IDENTIFIER, find_identifiers

from .conftest import World
from .test_free_text_identity import AE, AE_FIELDS, _mother, _terms
from .web import log_in, opened_form

NAMES = [
    "Rash - ROSSI Maria",
    "Rash - Maria Rossi",
    "Rash, seen by mother Maria Rossi at home",
    "Nausea after first dose, reported by Maria Rossi",
    "Headache; ROSSI, Maria called",
    "Vomito riferito da Rossi Giuseppe",
    "Rash reported by John Smith",
]
CLINICAL = [
    "Rash on the trunk",
    "Nausea, valacyclovir per via orale",
    "Valaciclovir 2 g ogni 6 ore, Maribavir stopped",
    "Macule rosa sul tronco",
    "Chiara evidenza di epatomegalia",
    "Hepatomegaly and Ascites",
    "Ricoverata a Santa Maria Nuova, Firenze",
    "Neutropenia grade 2 (ANC 0.9)",
    "CMV DNA 350000 copies/mL, Letermovir started",
    "Eruzione Cutanea diffusa",
    "Trasferita al Policlinico Sant'Orsola",
]


@pytest.mark.parametrize("text", NAMES)
def test_a_name_without_a_title_is_found(text: str) -> None:
    assert [f.kind for f in find_identifiers(text)] == ["name"], text
    assert not any(f.certain for f in find_identifiers(text))  # confirmable: may be a false alarm


@pytest.mark.parametrize("text", CLINICAL)
def test_clinical_and_drug_words_are_not_names(text: str) -> None:
    assert find_identifiers(text) == []


def test_names_are_refused_at_entry_and_withheld_from_central_exports(site, world: World) -> None:  # type: ignore[no-untyped-def]
    client, _clock, _keys = site
    key = _mother(world)
    log_in(client, "entry_a")
    url = f"/registry/subjects/{key}/{AE[0]}/{AE[1]}"
    fields = {f"f_{k}": v for k, v in AE_FIELDS.items()}
    terms = NAMES[:3]
    for i, term in enumerate(terms, start=1):
        page = url + f"?instance={i}"
        data = {**opened_form(client.get(page).text), **fields, "f_ae_term": term}
        refused = client.post(page, data=data, follow_redirects=False)
        assert refused.status_code == 422 and 'name="confirm_free_text"' in refused.text, term
        # the user says it identifies no one (wrongly): stored, and still kept from the centre
        confirmed = client.post(
            page, data={**data, "confirm_free_text": "1"}, follow_redirects=False
        )
        assert confirmed.status_code == 303, term
    for fmt in exports.FORMATS:
        with world.registry.session(world.dm) as s:
            central = exports.export(s, world.dm, fmt=fmt, profile="central").files
        text = "\n".join(central.values()).lower()
        assert "rossi" not in text and "maria" not in text, fmt
        assert _terms(fmt, central) == [WITHHELD_IDENTIFIER] * len(terms), fmt
