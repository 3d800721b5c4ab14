"""The genotyping decision refers to a reported genotype's result (debt23 item 4).

Sources: Kotton 2018 SOT consensus / Chemaly 2019 (refractory CMV: a genotype is read and the
drug chosen on it); Lurain & Chou 2010 and the pack's HerpesDRG rows (UL97 M460V: ganciclovir
resistance, foscarnet and cidofovir unaffected). Vignette: probe11 b09 (heart, IV ganciclovir
from 2026-10-29, 20,000 → 90,000 IU/mL, worsening) with UL97:M460V reported on 2026-11-18. The
decision said "interpret it with the resistance report" although the reading was made; it now
says the reading, drug by drug, and the outcome stays ``not_indicated`` (no new genotype).
"""

from __future__ import annotations

import copy

from cmvcds.knowledge import Knowledge
from transplant.helpers import decision, run
from transplant.test_probe11_genotype_cidofovir import B09


def test_the_decision_says_the_reading_of_the_reported_genotype(knowledge: Knowledge) -> None:
    raw = copy.deepcopy(B09)
    raw["genotype"] = [
        {"date": "2026-11-18", "mutations": ["UL97:M460V"], "genes_tested": ["UL97", "UL54"]}
    ]
    genotyping = decision(run(knowledge, raw), "resistance-genotyping")
    assert genotyping["outcome"] == "not_indicated"
    (reading,) = [r for r in genotyping["reasons"] if r.startswith("A genotype")]
    assert reading.startswith("A genotype was reported on 2026-11-18 (UL97, UL54): UL97:M460V.")
    assert "ganciclovir: moderate resistance" in reading
    assert "foscarnet: susceptible" in reading
    assert "cidofovir: susceptible" in reading
    assert "interpret it with the resistance report" not in reading
    assert "herpesdrg-db-2026q2" in genotyping["citations"]  # the reading's own source


def test_a_genotype_without_mutation_is_read_as_susceptible(knowledge: Knowledge) -> None:
    raw = copy.deepcopy(B09)
    # sent on the day of the trigger (the 90,000 IU/mL load of 2026-11-19)
    raw["genotype"] = [{"date": "2026-11-19", "mutations": [], "genes_tested": ["UL97", "UL54"]}]
    genotyping = decision(run(knowledge, raw), "resistance-genotyping")
    assert genotyping["outcome"] == "not_indicated"
    reading = " ".join(genotyping["reasons"])
    assert "interpret it with the resistance report" not in reading
    assert "(UL97, UL54): no mutation. Its reading:" in reading
    assert "ganciclovir: susceptible" in reading
