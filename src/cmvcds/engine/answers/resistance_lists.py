"""Generated statements listing what the resistance table holds, for the drug (and gene) asked.

"Which UL97 mutations confer ganciclovir resistance?" is answered by the table itself: every
single mutation of that gene whose level for that drug is low, moderate or high, as the resistance
report would call it (HerpesDRG-DB rows, cmvcds' levels and curated calls), grouped by level. The
lists are computed at question time, and the resistance engine (Biopython, the reference genome)
and the resistance table's schema are imported only then, so a question about anything else (a
dose question, a pregnancy question) does not pay for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cmvcds.engine.answers.evidence import Evidence
from cmvcds.engine.answers.vocabulary import Understanding
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.answers import Template
from cmvcds.knowledge.schemas.base import Fact

__all__ = ["mutation_calls", "resistance_lists"]

_GENE = re.compile(r"(?<![a-z0-9])(ul\d{2,3})(?![a-z0-9])")
_LEVELS = ("high", "moderate", "low")


def _residue(mutation: str) -> tuple[int, str]:
    """Sort key: the first residue number of ``UL97:M460V`` (then the text)."""
    number = re.search(r"\d+", mutation.split(":", 1)[1])
    return (int(number.group()) if number else 0, mutation)


def resistance_lists(
    knowledge: Knowledge, template: Template, question: Understanding
) -> Iterator[Evidence]:
    """One statement per drug × gene asked: the table's resistance mutations by level."""
    if "resistance" not in question.topics or not question.drugs:
        return
    if "resistance_drugs" not in knowledge.tables:
        return
    from cmvcds.engine.answers.generate import fill
    from cmvcds.engine.resistance.report import mutation_levels
    from cmvcds.knowledge.schemas.resistance import ResistanceDrugs

    drugs = {d.drug: d for d in knowledge.table("resistance_drugs", ResistanceDrugs).drugs}
    asked_genes = {g.upper() for g in _GENE.findall(question.question.lower())}
    levels = mutation_levels(knowledge)
    for name in question.drugs:
        entry = drugs.get(name)
        if entry is None:
            continue
        source = drugs.get(entry.phenotype_from, entry) if entry.phenotype_from else entry
        for gene in source.genes:
            if asked_genes and gene not in asked_genes:
                continue
            by_level: dict[str, list[str]] = {level: [] for level in _LEVELS}
            rows: list[Fact] = []
            for (mutation, drug), assessment in levels.items():
                level = assessment.level.value
                if drug == source.drug and mutation.startswith(f"{gene}:") and level in by_level:
                    by_level[level].append(mutation.split(":", 1)[1])
                    rows.extend(assessment.rows)
            count = sum(len(v) for v in by_level.values())
            if not count:
                continue
            listed = {
                level: ", ".join(sorted(v, key=lambda m: _residue(f"{gene}:{m}")))
                for level, v in by_level.items()
            }
            fields = {
                "drug": name,
                "gene": gene,
                "count": count,
                **{f"{level}_list": listed[level] or "none" for level in _LEVELS},
                **{f"{level}_list_it": listed[level] or "nessuna" for level in _LEVELS},
                "phenotype_from": f" (its phenotype is {source.drug}'s)"
                if source is not entry
                else "",
                "phenotype_from_it": f" (il suo fenotipo è quello del {source.drug})"
                if source is not entry
                else "",
            }
            yield fill(
                template,
                f"{name}:{gene}",
                fields,
                rows,
                locator="resistance_mutations (HerpesDRG-DB import) with cmvcds levels",
                drugs=(name,),
                origin="question",
            )


#: A mutation named with its gene: "UL97 C592G", "UL97:M460V", "ul54 a809v".
_NAMED = re.compile(r"(?<![a-z0-9])(ul\d{2,3})[\s:]*([a-z]\d{1,4}[a-z*])(?![a-z0-9])")
_LEVEL_WORDS = {
    "en": {"high": "high-level", "moderate": "moderate-level", "low": "low-level"},
    "it": {"high": "di alto livello", "moderate": "di livello moderato", "low": "di basso livello"},
}


def _fold(fold: tuple[float, float] | None) -> str:
    if fold is None:
        return ""
    low, high = (f"{v:.3g}" for v in fold)
    return f" (about {low}×)" if low == high else f" ({low}–{high}×)"


def mutation_calls(
    knowledge: Knowledge, template: Template, question: Understanding
) -> Iterator[Evidence]:
    """One statement per single mutation the question names with its gene ("Does UL97 C592G cause
    high-level resistance?", "Which drug for UL97 M460V?"): its level and fold change for each
    drug of the resistance table, and the drugs the table lists no resistance to (fix15b, probe15
    B2). The table's own call, never a guess: a drug with no row is said to have none listed."""
    named = _NAMED.findall(question.question.lower())
    if not named or "resistance_drugs" not in knowledge.tables:
        return
    from cmvcds.engine.answers.generate import fill
    from cmvcds.engine.resistance.report import mutation_levels
    from cmvcds.knowledge.schemas.resistance import ResistanceDrugs

    drugs = [d for d in knowledge.table("resistance_drugs", ResistanceDrugs).drugs]
    levels = mutation_levels(knowledge)
    for gene, change in dict.fromkeys(named):
        mutation = f"{gene.upper()}:{change.upper()}"
        calls: dict[str, list[str]] = {"en": [], "it": []}
        none: list[str] = []
        rows: list[Fact] = []
        for entry in drugs:
            if entry.phenotype_from:  # valganciclovir: ganciclovir's phenotype
                continue
            assessment = levels.get((mutation, entry.drug))
            level = assessment.level.value if assessment is not None else None
            if assessment is None or level not in _LEVELS:
                none.append(entry.drug)
                continue
            rows.extend(assessment.rows)
            fold = _fold(assessment.fold_change)
            calls["en"].append(f"{_LEVEL_WORDS['en'][level]} {entry.drug} resistance{fold}")
            calls["it"].append(f"resistenza {_LEVEL_WORDS['it'][level]} al {entry.drug}{fold}")
        if not rows:
            continue  # not in the table: the lists and "not covered" say so
        fields = {
            "mutation": f"{gene.upper()} {change.upper()}",
            "calls": "; ".join(calls["en"]),
            "calls_it": "; ".join(calls["it"]),
            "none": ", ".join(none) or "none",
            "none_it": ", ".join(none) or "nessuno",
        }
        yield fill(
            template,
            mutation,
            fields,
            rows,
            locator="resistance_mutations (HerpesDRG-DB import) with cmvcds levels",
            drugs=tuple(d.drug for d in drugs if not d.phenotype_from and d.drug not in none),
            origin="question",
        )
