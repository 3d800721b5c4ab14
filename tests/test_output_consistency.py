"""No assessment recommends a drug beside one that the same output says must not be combined
with it (probe9 #3: valganciclovir "prophylaxis" recommended beside a maribavir option that says
"never with (val)ganciclovir"; LIVTENCITY US PI §5.1, §7.1; EU SmPC 4.3).

The pairs that must not be combined are read from the pack: a drug label's interaction row of
``critical`` severity (``warn`` or ``exclude``) naming another drug of the pack's labels. In an
assessment, every regimen is given (so no two regimens may form such a pair), and an option
offered in a decision's reasons (``cmv_treatment`` options: "(option)", "(alternative)", …) is an
alternative to that decision's own regimen but is given beside the regimens of the prevention
decisions (prophylaxis, pre-emptive, pregnancy prevention): none of those may pair with it.

Checked on every recorded golden assessment (every context, with and without site settings:
``tests/golden`` proves they are the engine's current answers) and on the probe9 vignettes.
"""

from __future__ import annotations

import gzip
import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel
from cmvcds.knowledge.schemas.transplant import TreatmentRules

GOLDEN = Path(__file__).parent / "golden" / "golden.ndjson.gz"
PREVENTION = ("prophylaxis", "preemptive", "pregnancy-prevention")


def _never_together(knowledge: Knowledge) -> set[frozenset[str]]:
    labels = {t.drug: t for t in knowledge.tables.values() if isinstance(t, DrugLabel)}
    pairs = set()
    for drug, label in labels.items():
        for rule in label.interactions:
            if rule.severity == "critical" and rule.effect in ("warn", "exclude"):
                pairs.update(frozenset((drug, other)) for other in rule.with_any if other in labels)
    return pairs


def _offered(document: dict[str, Any], rules: TreatmentRules) -> set[str]:
    """Drugs of the options a decision offers (not those it excludes or does not choose)."""
    found = set()
    for decision in document.get("decisions") or []:
        for reason in decision.get("reasons") or []:
            for option in rules.options:
                if option.drug and reason.startswith(f"{option.wording} ("):
                    verdict = reason[len(option.wording) + 2 :]
                    if not verdict.startswith(("excluded", "not chosen")):
                        found.add(option.drug)
    return found


def conflicts(document: dict[str, Any], knowledge: Knowledge) -> list[str]:
    pairs = _never_together(knowledge)
    rules = knowledge.table("cmv_treatment", TreatmentRules)
    regimens = document.get("regimens") or []
    out = []
    for a, b in combinations(regimens, 2):
        if frozenset((a["drug"], b["drug"])) in pairs:
            out.append(
                f"regimens {a['drug']} ({a['indication']}) and {b['drug']} ({b['indication']})"
            )
    prevention = {r["drug"] for r in regimens if r["indication"] in PREVENTION}
    for drug in _offered(document, rules):
        for given in prevention:
            if frozenset((drug, given)) in pairs:
                out.append(f"{given} prevention regimen beside the {drug} option")
    return out


def test_the_pack_names_the_maribavir_ganciclovir_pairs(knowledge: Knowledge) -> None:
    pairs = _never_together(knowledge)
    assert frozenset(("maribavir", "valganciclovir")) in pairs
    assert frozenset(("maribavir", "ganciclovir")) in pairs


def test_no_golden_assessment_combines_drugs_it_says_must_not_be_combined(
    knowledge: Knowledge,
) -> None:
    found, contexts = [], set()
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            document = json.loads(record["output"])
            contexts.add(document["context"])
            for conflict in conflicts(document, knowledge):
                found.append(f"{record['case'].get('id')}: {conflict}")
    assert len(contexts) == 6
    assert not found, found[:10]


PROBE9 = {
    "kidney D+/R− day 160, refractory on valganciclovir induction (probe9 a_mbv_refractory)": None,
    "the same with carbamazepine (probe9 a_mbv_carbamazepine)": "carbamazepine",
}


@pytest.mark.parametrize("co_medication", list(PROBE9.values()), ids=list(PROBE9))
def test_probe9_refractory_vignettes_are_consistent(
    knowledge: Knowledge, co_medication: str | None
) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "scenarios"))
    from transplant.helpers import run, with_
    from transplant.test_treatment_not_prophylaxis import KIDNEY_DPOS_RNEG

    tx = dict(KIDNEY_DPOS_RNEG["transplant"])
    if co_medication:
        tx["co_medications"] = [*tx["co_medications"], co_medication]
    document = run(knowledge, with_(KIDNEY_DPOS_RNEG, transplant=tx))
    rules = knowledge.table("cmv_treatment", TreatmentRules)
    assert "maribavir" in _offered(document, rules)
    assert conflicts(document, knowledge) == []
    # the defect this guards: the same output with the old valganciclovir prophylaxis regimen
    broken = dict(document)
    broken["regimens"] = [{"drug": "valganciclovir", "indication": "prophylaxis"}]
    assert conflicts(broken, knowledge) == [
        "valganciclovir prevention regimen beside the maribavir option"
    ]
