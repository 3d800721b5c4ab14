"""The resistance report: per drug, a level, the mutations behind it and their evidence.

Rules (data in ``knowledge/data/resistance``):

- each mutation × drug is assessed from its own phenotype rows (:func:`levels.assess_rows`); a
  phenotype measured for a combination is a rule about the combination and applies only when
  every mutation of it was found on the same genomes — it is never attributed to one of its
  mutations. Frequencies imply co-occurrence only when they sum to more than the number of
  mutations less one (two: f1 + f2 > 1; pigeonhole); a mutation list or a consensus sequence is
  one genome (1.0 each). Otherwise each mutation is assessed alone and the call is flagged
  ``possible-combination`` with the combination's measured phenotype;
- a drug's level is the highest over the mutations (and combinations) found in its genes;
- a curated level (``curation.yaml``) replaces the level of the rows it supersedes; the measured
  level stays in the evidence next to it;
- resistance mutations found in every gene of a ``combined_effects.yaml`` rule, with no phenotype
  measured for them together, flag the drug's call (combined effect uncharacterised) without
  changing its level;
- with no resistance found: a required gene not sequenced, or a known resistance codon not
  covered, makes the drug ``not_assessed``; otherwise a change of uncharacterised effect in one of
  its genes makes it ``unknown``; otherwise it is ``susceptible``;
- a known polymorphism (HerpesDRG "Polymorphism") is susceptible for the drug of that row only:
  for a drug with no row the change is uncharacterised (UL54 V715A is a cidofovir polymorphism,
  resistant to foscarnet, and unknown for ganciclovir). The natural strain polymorphisms of
  ``polymorphisms.yaml`` fill in where the mutation table has no row for a mutation × drug, for
  the drug of their row only (a listed row that gains a measured row is a pack inconsistency);
- minority variants (below the reporting threshold) are listed and never drive a call; one
  with a resistance row for a drug flags that drug's call (``resistance-below-threshold``: the
  mutation and its frequency) without changing its level;
- a mutation whose frequency the input does not give (a VCF record without AF, FREQ, AD or DP4,
  or a mixed base of a consensus sequence)
  counts as present, its frequency reported as not given (``None``, JSON ``null``), and flags
  each drug call it raises to resistance or to unknown (``frequency-not-given``): the call
  depends on a variant of unknown frequency (ADR 0031-fix10c).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cmvcds.domain.fast_init import fast_init
from cmvcds.engine.resistance.codons import Call, LowDepth
from cmvcds.engine.resistance.levels import (
    Assessment,
    Level,
    MutationStatus,
    assess_rows,
    listed_polymorphism,
)
from cmvcds.engine.resistance.mutations import parse_change_id
from cmvcds.engine.resistance.viruses import DEFAULT_VIRUS, virus_tables
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.resistance import (
    CombinedEffectRule,
    CombinedEffects,
    Curation,
    MutationPhenotype,
    NaturalPolymorphism,
    Polymorphisms,
    ResistanceDrug,
    ResistanceDrugs,
    ResistanceLevels,
)

__all__ = [
    "Contribution",
    "DrugCall",
    "Flag",
    "GeneCoverage",
    "Genotype",
    "ResistanceReport",
    "interpret",
    "mutation_levels",
]

FORMAT = "cmvcds-resistance/1"


@fast_init
@dataclass(frozen=True)
class GeneCoverage:
    """Codons covered in one gene (1-based inclusive intervals) and how that is known."""

    gene: str
    codons: tuple[tuple[int, int], ...]
    #: "sequence" (FASTA: the codons read), "declared" (VCF genes_tested), "variants" (a VCF
    #: record in the gene: which codons were read is unknown, as a VCF lists variants only, so
    #: ``codons`` is empty and no drug of the gene is called susceptible from it; ADR
    #: 0033-fix15a), "listed" (a mutation list: only the listed codons are known; the
    #: extent sequenced is not stated, so no codon is ever reported "not covered" from it)
    basis: str


@dataclass(frozen=True)
class Genotype:
    """What a sample showed, whatever the input: calls, minority variants, genes and coverage."""

    calls: tuple[Call, ...]
    genes_tested: tuple[str, ...]
    coverage: tuple[GeneCoverage, ...]
    threshold: float
    minority: tuple[Call, ...] = ()
    warnings: tuple[str, ...] = ()
    source: str = "mutations"
    #: NGS only: the minimum read depth applied, and the changes read below it (not called)
    min_depth: int | None = None
    low_depth: tuple[LowDepth, ...] = ()
    #: NGS only: called changes resting on a variant whose record gives no read depth
    no_depth: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Contribution:
    """One mutation (or combination, ids joined by ``+``) assessed for one drug."""

    mutation: str
    level: Level
    fold_change: tuple[float, float] | None
    evidence: str
    studies: int
    references: tuple[str, ...]
    qualitative: bool = False
    polymorphism: bool = False
    combination: bool = False
    curated: str | None = None  # the curation's wording when a curated level replaced ``measured``
    measured: Level | None = None
    curation: str | None = None  # its id in curation.yaml
    curation_citations: tuple[str, ...] = ()
    listed: str | None = None  # its id in polymorphisms.yaml (a natural polymorphism)
    listed_citations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    """A caveat on a drug's call from a knowledge rule (e.g. a combined effect not measured)."""

    code: str
    text: str
    mutations: tuple[str, ...]
    citations: tuple[str, ...]
    rule: str  # its id in the knowledge table


@fast_init
@dataclass(frozen=True)
class DrugCall:
    drug: str
    level: Level
    fold_change: tuple[float, float] | None
    mutations: tuple[str, ...]
    citations: tuple[str, ...]
    references: tuple[str, ...] = ()
    contributions: tuple[Contribution, ...] = ()
    unknown: tuple[str, ...] = ()
    genes_not_tested: tuple[str, ...] = ()
    not_covered: tuple[str, ...] = ()
    phenotype_from: str | None = None
    note: str | None = None
    flags: tuple[Flag, ...] = ()
    #: genes of the drug whose codons read are not known (a VCF without declared genes)
    coverage_unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class MutationFinding:
    id: str
    frequency: float | None  # None: not given by the input (never invented)
    status: MutationStatus
    haplotype: str | None = None


@dataclass(frozen=True)
class ResistanceReport:
    knowledge: Mapping[str, str]
    threshold: float
    genes_tested: tuple[str, ...]
    mutations: tuple[MutationFinding, ...]
    minority: tuple[Call, ...]
    drugs: tuple[DrugCall, ...]
    unknown: tuple[str, ...]
    coverage: tuple[GeneCoverage, ...]
    warnings: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    source: str = "mutations"
    virus: str = DEFAULT_VIRUS
    min_depth: int | None = None
    low_depth: tuple[LowDepth, ...] = ()

    def drug(self, name: str) -> DrugCall:
        return next(d for d in self.drugs if d.drug == name)

    def to_dict(self) -> dict[str, Any]:
        """The ``cmvcds-resistance/1`` JSON object (design.md), keys in contract order."""
        return {
            "format": FORMAT,
            "knowledge": dict(self.knowledge),
            "threshold": self.threshold,
            "genes_tested": list(self.genes_tested),
            "mutations": [
                {
                    "id": m.id,
                    "frequency": None if m.frequency is None else round(m.frequency, 4),
                    "status": m.status.value,
                    **({"haplotype": m.haplotype} if m.haplotype else {}),
                }
                for m in self.mutations
            ],
            "minority": [
                {"id": m.id, "frequency": None if m.frequency is None else round(m.frequency, 4)}
                for m in self.minority
            ],
            "drugs": {d.drug: _drug_dict(d) for d in self.drugs},
            "unknown": list(self.unknown),
            "coverage": {
                c.gene: {"codons": [list(i) for i in c.codons], "basis": c.basis}
                for c in self.coverage
            },
            "input": self.source,
            "warnings": list(self.warnings),
            "unverified": list(self.unverified),
            "virus": self.virus,  # ADR 0022: after the contract's keys, their order kept
            **(
                {
                    "min_depth": self.min_depth,
                    "low_depth": [
                        {
                            "id": m.id,
                            "frequency": None if m.frequency is None else round(m.frequency, 4),
                            "depth": m.depth,
                        }
                        for m in self.low_depth
                    ],
                }
                if self.source == "vcf"
                else {}
            ),
        }


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else value


def _drug_dict(call: DrugCall) -> dict[str, Any]:
    result: dict[str, Any] = {
        "level": call.level.value,
        "fold_change": [_number(v) for v in call.fold_change] if call.fold_change else None,
        "mutations": list(call.mutations),
        "citations": list(call.citations),
        "references": list(call.references),
        "evidence": [
            {
                "mutation": c.mutation,
                "level": c.level.value,
                "fold_change": [_number(v) for v in c.fold_change] if c.fold_change else None,
                "evidence": c.evidence,
                "studies": c.studies,
                "references": list(c.references),
                **({"qualitative": True} if c.qualitative else {}),
                **({"polymorphism": True} if c.polymorphism else {}),
                **({"combination": True} if c.combination else {}),
                **(
                    {
                        "curated": {
                            "level_measured": c.measured.value if c.measured else None,
                            "reason": c.curated,
                            "citations": list(c.curation_citations),
                        }
                    }
                    if c.curated
                    else {}
                ),
            }
            for c in call.contributions
        ],
        "unknown": list(call.unknown),
    }
    if call.genes_not_tested:
        result["genes_not_tested"] = list(call.genes_not_tested)
    if call.not_covered:
        result["not_covered"] = list(call.not_covered)
    if call.coverage_unknown:
        result["coverage_unknown"] = list(call.coverage_unknown)
    if call.phenotype_from:
        result["phenotype_from"] = call.phenotype_from
    if call.note:
        result["note"] = call.note
    if call.flags:
        result["flags"] = [
            {
                "code": f.code,
                "text": f.text,
                "mutations": list(f.mutations),
                "citations": list(f.citations),
            }
            for f in call.flags
        ]
    return result


@dataclass(frozen=True)
class _Index:
    """The mutation table arranged for interpretation (built once per knowledge pack)."""

    levels: ResistanceLevels
    drugs: tuple[ResistanceDrug, ...]
    singles: Mapping[tuple[str, str], Assessment]
    combinations: Mapping[str, tuple[tuple[frozenset[str], str, Assessment], ...]]  # by member
    with_data: frozenset[str]
    #: by drug: each gene's codons where a mutation confers resistance to it, ascending
    resistance_codons: Mapping[str, tuple[tuple[str, tuple[int, ...]], ...]] = field(
        default_factory=dict
    )
    rules: Mapping[str, tuple[CombinedEffectRule, ...]] = field(default_factory=dict)  # by drug
    unverified_rows: Mapping[str, str] = field(default_factory=dict)  # rule/curation id -> note
    #: the contribution of each (mutation or combination, drug, combination?) a report has met,
    #: built on first use (``_contribution_of``): it depends on the pack alone
    contributions: dict[tuple[str, str, bool], Contribution] = field(
        default_factory=dict, compare=False
    )


_INDEXES: dict[tuple[str, str], _Index] = {}  # memo of a pure function of the (immutable) pack


def _index(knowledge: Knowledge, virus: str) -> _Index:
    cached = _INDEXES.get((knowledge.sha256, virus))
    if cached is not None:
        return cached
    tables = virus_tables(virus)
    levels = knowledge.table("resistance_levels", ResistanceLevels)
    drugs = knowledge.table(tables.drugs, ResistanceDrugs).drugs
    rows = knowledge.rows(tables.mutations, MutationPhenotype)
    single_rows: dict[tuple[str, str], list[MutationPhenotype]] = defaultdict(list)
    combo_rows: dict[tuple[frozenset[str], str], list[MutationPhenotype]] = defaultdict(list)
    for row in rows:
        if row.co_mutations:
            combo_rows[(frozenset((row.mutation, *row.co_mutations)), row.drug)].append(row)
        else:
            single_rows[(row.mutation, row.drug)].append(row)
    singles = {key: assess_rows(value, levels) for key, value in single_rows.items()}
    unverified_rows: dict[str, str] = {}
    curations = knowledge.table(tables.curation, Curation).calls if tables.curation else ()
    for item in curations:
        key = (item.mutation, item.drug)
        ids = {r.id for r in single_rows.get(key, [])}
        if ids != set(item.supersedes):
            raise KnowledgeError(
                f"curation.yaml {item.id}: supersedes {sorted(item.supersedes)} but the rows of "
                f"{item.mutation} x {item.drug} are {sorted(ids)}; review the curation"
            )
        measured = singles[key]
        singles[key] = replace(
            measured, level=Level(item.level), curated=item, measured=measured.level
        )
        if not item.verified:
            unverified_rows[item.id] = f"Curated level of {item.mutation} for {item.drug}"
    if tables.polymorphisms:
        listed = knowledge.table(tables.polymorphisms, Polymorphisms).polymorphisms
        _add_listed(listed, singles, single_rows, unverified_rows)
    rules: dict[str, list[CombinedEffectRule]] = defaultdict(list)
    combined = (
        knowledge.table(tables.combined_effects, CombinedEffects).rules
        if tables.combined_effects
        else ()
    )
    for rule in combined:
        rules[rule.drug].append(rule)
        if not rule.verified:
            unverified_rows[rule.id] = (
                f"Combined effect of {' + '.join(rule.genes)} mutations on {rule.drug}"
            )
    by_member: dict[str, list[tuple[frozenset[str], str, Assessment]]] = defaultdict(list)
    for (members, drug), value in combo_rows.items():
        entry = (members, drug, assess_rows(value, levels))
        for member in members:
            by_member[member].append(entry)
    codons: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (mutation, drug), assessment in singles.items():
        if assessment.level.is_resistance:
            change = parse_change_id(mutation)
            codons[(drug, change.gene)].update(range(change.start, change.end + 1))
    resistance_codons: dict[str, list[tuple[str, tuple[int, ...]]]] = defaultdict(list)
    for (drug, gene), at in codons.items():
        resistance_codons[drug].append((gene, tuple(sorted(at))))
    index = _Index(
        levels=levels,
        drugs=drugs,
        singles=singles,
        combinations={k: tuple(v) for k, v in by_member.items()},
        with_data=frozenset(m for m, _ in single_rows),
        resistance_codons={k: tuple(v) for k, v in resistance_codons.items()},
        rules={k: tuple(v) for k, v in rules.items()},
        unverified_rows=unverified_rows,
    )
    _INDEXES[(knowledge.sha256, virus)] = index
    return index


def _add_listed(
    listed: Sequence[NaturalPolymorphism],
    singles: dict[tuple[str, str], Assessment],
    single_rows: Mapping[tuple[str, str], Sequence[MutationPhenotype]],
    unverified_rows: dict[str, str],
) -> None:
    """The natural polymorphisms of ``polymorphisms.yaml`` where no row measures the mutation
    for the drug; a listed mutation x drug with measured rows (or listed twice) is refused."""
    for row in listed:
        key = (row.mutation, row.drug)
        if key in singles:
            measured = sorted(r.id for r in single_rows.get(key, []))
            raise KnowledgeError(
                f"polymorphisms.yaml {row.id}: {row.mutation} x {row.drug} is listed more "
                f"than once or has measured rows {measured}; review the entry"
            )
        singles[key] = listed_polymorphism(row)
        if not row.verified:
            unverified_rows[row.id] = f"Natural polymorphism {row.mutation} for {row.drug}"


def mutation_levels(
    knowledge: Knowledge, virus: str = DEFAULT_VIRUS
) -> Mapping[tuple[str, str], Assessment]:
    """The level of every single mutation × drug of ``virus``'s table, as a report would call it
    (curated levels applied): what Ask lists when asked which mutations confer resistance."""
    return _index(knowledge, virus).singles


def default_threshold(knowledge: Knowledge) -> float:
    return float(knowledge.table("resistance_levels", ResistanceLevels).default_threshold)


def default_min_depth(knowledge: Knowledge) -> int:
    """The pack's reference minimum read depth for NGS variants (levels.yaml; a site overrides
    it): no guideline sets one (ADR 0033-fix15a)."""
    return knowledge.table("resistance_levels", ResistanceLevels).min_depth.reads


def _contribution(
    mutation: str, assessment: Assessment, *, combination: bool = False, polymorphism: bool = False
) -> Contribution:
    listed = assessment.listed
    references = tuple(
        sorted(
            {r.doi for r in assessment.rows if r.doi}
            | ({listed.doi} if listed and listed.doi else set())
        )
    )
    curated = assessment.curated
    return Contribution(
        mutation=mutation,
        level=assessment.level,
        fold_change=assessment.fold_change,
        evidence=assessment.evidence.value,
        studies=len({r.doi or r.id for r in assessment.rows}) + (1 if listed else 0),
        references=references,
        qualitative=assessment.qualitative,
        polymorphism=polymorphism or assessment.polymorphism,
        combination=combination,
        curated=curated.wording if curated else None,
        measured=assessment.measured,
        curation=curated.id if curated else None,
        curation_citations=curated.citations if curated else (),
        listed=listed.id if listed else None,
        listed_citations=listed.citations if listed else (),
    )


def _contribution_of(
    index: _Index, mutation: str, drug: str, assessment: Assessment, *, combination: bool = False
) -> Contribution:
    """``_contribution`` of ``mutation`` (``assessment``: the index's row of it for ``drug``),
    built once per pack: every report calls every drug on every mutation found, and each call
    rebuilt the same sets of references and studies (issue 20)."""
    key = (mutation, drug, combination)
    found = index.contributions.get(key)
    if found is None:
        found = index.contributions[key] = _contribution(
            mutation, assessment, combination=combination
        )
    return found


def _covered(genotype: Genotype) -> dict[str, tuple[tuple[int, int], ...]]:
    """The codon intervals known to be read, by gene (a listed mutation tells none, nor does a
    VCF record: a VCF lists variants, not the codons read)."""
    return {c.gene: c.codons for c in genotype.coverage if c.basis not in ("listed", "variants")}


def _uncovered(
    index: _Index, drug: str, covered: Mapping[str, tuple[tuple[int, int], ...]]
) -> list[str]:
    """The resistance codons of ``drug`` in a gene read only in part: ``gene:codon``."""
    missing: list[str] = []
    if not covered:  # no extent read is known (e.g. a mutation list): nothing to report
        return missing
    for gene, codons in index.resistance_codons.get(drug, ()):
        if gene not in covered:
            continue
        intervals = covered[gene]
        gaps = [c for c in codons if not any(lo <= c <= hi for lo, hi in intervals)]
        missing.extend(f"{gene}:{c}" for c in gaps)
    return missing


def _linked(
    members: frozenset[str], frequency: Mapping[str, float | None], one_genome: bool = False
) -> bool:
    """Whether the frequencies force every member onto the same genomes (sum > n - 1); a
    frequency not given shows nothing, except in a mutation list (``one_genome``), read as one
    genome as it always was (the report's module doc)."""
    if one_genome:
        return True
    known = [frequency[m] for m in members]
    return None not in known and sum(f for f in known if f) > len(members) - 1 + 1e-9


def _percent(value: float | None) -> str:
    return "frequency not given" if value is None else f"{value:.0%}"


def _possible_combination(
    members: frozenset[str],
    assessment: Assessment,
    frequency: Mapping[str, float | None],
    drug: str,
) -> Flag:
    listed = " and ".join(f"{m} ({_percent(frequency[m])})" for m in sorted(members))
    fold = assessment.fold_change
    measured = (
        f"{_number(fold[0])}-{_number(fold[1])}-fold"
        if fold and fold[0] != fold[1]
        else f"{_number(fold[0])}-fold"
        if fold
        else "resistant"
    )
    rows = ", ".join(sorted({r.id for r in assessment.rows}))
    text = (
        f"{listed} were measured together at {measured} ({assessment.level.value}) for {drug} "
        f"({rows}); their frequencies do not show that they share a genome (sum not above "
        f"{100 * (len(members) - 1)} %), so each is assessed alone. If they are linked, the "
        "combined phenotype applies: confirm by clonal or long-read sequencing."
    )
    return Flag(
        "possible-combination",
        text,
        tuple(sorted(members)),
        ("charles2024-herpesdrg", "herpesdrg-db-2026q2"),
        "+".join(sorted(members)),
    )


def _call_drug(
    index: _Index,
    drug: ResistanceDrug,
    genotype: Genotype,
    found: Sequence[str],
    frequency: Mapping[str, float | None],
    covered: Mapping[str, tuple[tuple[int, int], ...]],
) -> tuple[DrugCall, dict[str, bool]]:
    """The drug's call, and for each mutation considered whether it is characterised for it."""
    in_genes = [m for m in found if m.partition(":")[0] in drug.genes]
    present = set(found)
    mixed = {c.id for c in genotype.calls if c.haplotype == "mixture"}
    contributions: list[Contribution] = []
    explained: set[str] = set()
    seen: set[frozenset[str]] = set()
    possible: list[Flag] = []
    for mutation in in_genes:
        for members, combo_drug, assessment in index.combinations.get(mutation, ()):
            if combo_drug == drug.drug and members <= present and members not in seen:
                seen.add(members)
                one_genome = genotype.source == "mutations" and not members & mixed
                if not _linked(members, frequency, one_genome):
                    possible.append(
                        _possible_combination(members, assessment, frequency, drug.drug)
                    )
                    continue
                explained |= members
                contributions.append(
                    _contribution_of(
                        index, "+".join(sorted(members)), drug.drug, assessment, combination=True
                    )
                )
    characterised: dict[str, bool] = {}
    unknown: list[str] = []
    for mutation in in_genes:
        single = index.singles.get((mutation, drug.drug))
        if single is not None:
            contributions.append(_contribution_of(index, mutation, drug.drug, single))
        elif mutation not in explained:
            unknown.append(mutation)
        characterised[mutation] = mutation not in unknown
    contributions.sort(key=lambda c: (-c.level.rank, c.mutation))
    top = max(
        (c.level for c in contributions), key=lambda level: level.rank, default=Level.SUSCEPTIBLE
    )
    not_tested = tuple(g for g in drug.required_genes if g not in genotype.genes_tested)
    not_covered = tuple(_uncovered(index, drug.drug, covered))
    unknown_extent = {c.gene for c in genotype.coverage if c.basis == "variants"}
    coverage_unknown = tuple(  # said only where it decides the level (no resistance found)
        g
        for g in drug.genes
        if g in genotype.genes_tested and g in unknown_extent and not top.is_resistance
    )
    resistant = [c for c in contributions if c.level.is_resistance]
    if top.is_resistance:
        level = top
    elif not_tested or not_covered or coverage_unknown:
        level = Level.NOT_ASSESSED
    elif unknown:
        level = Level.UNKNOWN
    else:
        level = Level.SUSCEPTIBLE
    flags = (
        _frequency_flags(
            index,
            drug.drug,
            resistant,
            unknown,
            # a list: the laboratory called each change present; only a mixture's proportion
            # is not given
            {m: None if m in mixed else 1.0 for m in frequency}
            if genotype.source == "mutations"
            else frequency,
            genotype.threshold,
        )
        + _flags(index.rules.get(drug.drug, ()), resistant)
        + tuple(possible)
        + _below_threshold(index, drug, genotype)
        + _below_depth(index, drug, genotype)
        + _depth_not_given(index, drug.drug, resistant, unknown, genotype)
    )
    at_top = [c.fold_change for c in resistant if c.level is top and c.fold_change]
    fold = (min(f[0] for f in at_top), max(f[1] for f in at_top)) if at_top else None
    citations: tuple[str, ...] = ()
    if contributions or level is not Level.SUSCEPTIBLE:
        citations = tuple(
            dict.fromkeys(
                (
                    *drug.citations,
                    *index.levels.citations,
                    "charles2024-herpesdrg",
                    "herpesdrg-db-2026q2",
                    *(i for c in contributions for i in c.curation_citations),
                    *(i for c in contributions for i in c.listed_citations),
                    *(i for f in flags for i in f.citations),
                )
            )
        )
    call = DrugCall(
        drug=drug.drug,
        level=level,
        fold_change=fold,
        mutations=tuple(c.mutation for c in resistant),
        citations=citations,
        references=tuple(sorted({r for c in resistant for r in c.references})),
        contributions=tuple(contributions),
        unknown=tuple(unknown),
        genes_not_tested=not_tested,
        not_covered=not_covered[:20],
        note=drug.note,
        flags=flags,
        coverage_unknown=coverage_unknown,
    )
    return call, characterised


def _frequency_flags(
    index: _Index,
    drug: str,
    resistant: Sequence[Contribution],
    unknown: Sequence[str],
    frequency: Mapping[str, float | None],
    threshold: float,
) -> tuple[Flag, ...]:
    """The call rests on mutations whose frequency the input does not give (ADR 0031-fix10c)."""
    behind = {m for c in resistant for m in c.mutation.split("+")} | set(unknown)
    missing = tuple(sorted(m for m in behind if frequency.get(m, 0.0) is None))
    if not missing:
        return ()
    text = (
        f"This call depends on {', '.join(missing)}, whose allele frequency the input does not "
        "give (a VCF record without AF, FREQ, AD or DP4, a mixed base of a consensus "
        "sequence, or a mixture in a mutation list): counted as present at or above the "
        f"{threshold:.0%} reporting threshold, "
        "which is not known. Below the threshold it would not count. Obtain the frequency (a "
        "VCF with AF or AD, or NGS) before relying on this call."
    )
    citations = tuple(dict.fromkeys((*index.levels.citations, "arup-cmv-resistance-ngs")))
    return (Flag("frequency-not-given", text, missing, citations, "default_threshold"),)


def _below_threshold(index: _Index, drug: ResistanceDrug, genotype: Genotype) -> tuple[Flag, ...]:
    """Known resistance mutations for ``drug`` seen below the reporting threshold: named on the
    drug's row, the level unchanged (they never drive a call)."""
    flags = []
    for call in genotype.minority:
        single = index.singles.get((call.id, drug.drug))
        if single is None or not single.level.is_resistance:
            continue
        if call.id.partition(":")[0] not in drug.genes:
            continue
        seen = "frequency not given" if call.frequency is None else f"{call.frequency:.1%}"
        text = (
            f"{call.id} ({single.level.wording.lower()} to {drug.drug}) was seen at {seen}, below "
            f"the {genotype.threshold:.0%} reporting threshold: not counted in this level."
        )
        flags.append(
            Flag(
                "resistance-below-threshold",
                text,
                (call.id,),
                tuple(
                    dict.fromkeys(
                        (*index.levels.citations, "charles2024-herpesdrg", "herpesdrg-db-2026q2")
                    )
                ),
                "default_threshold",
            )
        )
    return tuple(flags)


def _below_depth(index: _Index, drug: ResistanceDrug, genotype: Genotype) -> tuple[Flag, ...]:
    """Changes in ``drug``'s genes read below the minimum depth: not called, named on the
    drug's row (a resistance mutation for it, or any change at one of its resistance codons),
    never silently "susceptible": its codon is then not covered (ADR 0033-fix15a)."""
    flags = []
    codons = dict(index.resistance_codons.get(drug.drug, ()))
    for low in genotype.low_depth:
        change = parse_change_id(low.id)
        if change.gene not in drug.genes:
            continue
        single = index.singles.get((low.id, drug.drug))
        at_codon = any(
            c in codons.get(change.gene, ()) for c in range(change.start, change.end + 1)
        )
        if not at_codon and (single is None or not single.level.is_resistance):
            continue
        seen = "frequency not given" if low.frequency is None else f"{low.frequency:.1%}"
        what = (
            f" ({single.level.wording.lower()} to {drug.drug})"
            if single is not None and single.level.is_resistance
            else f" (at a {drug.drug} resistance codon)"
        )
        text = (
            f"{low.id}{what} was seen at {seen} with depth {low.depth}, below the minimum "
            f"{genotype.min_depth}: not called; the codon is not assessable at this depth. "
            "Resequence (or confirm with the laboratory's own minimum) before relying on this call."
        )
        flags.append(
            Flag(
                "below-minimum-depth",
                text,
                (low.id,),
                index.levels.min_depth.citations,
                "min_depth",
            )
        )
    return tuple(flags)


def _depth_not_given(
    index: _Index,
    drug: str,
    resistant: Sequence[Contribution],
    unknown: Sequence[str],
    genotype: Genotype,
) -> tuple[Flag, ...]:
    """The call rests on a VCF variant whose record gives no read depth (no DP, AD, DP4 or iVar
    counts: INFO AF alone): the minimum depth could not be checked for it (review23c 7)."""
    if not genotype.no_depth:
        return ()
    behind = {m for c in resistant for m in c.mutation.split("+")} | set(unknown)
    missing = tuple(sorted(behind & genotype.no_depth))
    if not missing:
        return ()
    text = (
        f"This call depends on {', '.join(missing)}, whose VCF record gives no read depth (no "
        "DP, AD, DP4 or iVar counts): the minimum depth of "
        f"{genotype.min_depth} reads could not be checked, so the variant may rest on a few "
        "reads. Obtain the depth (a VCF with DP or AD) before relying on this call."
    )
    return (Flag("depth-not-given", text, missing, index.levels.min_depth.citations, "min_depth"),)


def _flags(
    rules: Sequence[CombinedEffectRule], resistant: Sequence[Contribution]
) -> tuple[Flag, ...]:
    """The rules whose genes all carry a resistance mutation not measured together."""
    flags = []
    for rule in rules:
        found = sorted(
            {
                m
                for c in resistant
                for m in c.mutation.split("+")
                if m.partition(":")[0] in rule.genes
            }
        )
        genes = {m.partition(":")[0] for m in found}
        if genes != set(rule.genes):
            continue
        measured = any(
            c.combination and set(found) <= set(c.mutation.split("+")) for c in resistant
        )
        if not measured:
            flags.append(Flag(rule.flag, rule.wording, tuple(found), rule.citations, rule.id))
    return tuple(flags)


def interpret(
    genotype: Genotype, knowledge: Knowledge, virus: str = DEFAULT_VIRUS
) -> ResistanceReport:
    """The report for ``genotype`` of ``virus`` (pure: same genotype and pack, same report)."""
    index = _index(knowledge, virus)
    found = [c.id for c in genotype.calls]
    frequency: dict[str, float | None] = {c.id: c.frequency for c in genotype.calls}
    covered = _covered(genotype)
    calls: dict[str, DrugCall] = {}
    characterised: dict[str, bool] = {}
    resistance: set[str] = set()
    for drug in index.drugs:
        if drug.phenotype_from:
            continue
        call, known = _call_drug(index, drug, genotype, found, frequency, covered)
        calls[drug.drug] = call
        for mutation, ok in known.items():
            characterised[mutation] = characterised.get(mutation, True) and ok
        for contribution in call.contributions:
            if contribution.level.is_resistance:
                resistance.update(contribution.mutation.split("+"))
    drugs = []
    for drug in index.drugs:
        if drug.phenotype_from:
            base = calls[drug.phenotype_from]
            citations = (
                tuple(dict.fromkeys((*base.citations, *drug.citations))) if base.citations else ()
            )
            drugs.append(
                replace(
                    base,
                    drug=drug.drug,
                    phenotype_from=drug.phenotype_from,
                    note=drug.note,
                    citations=citations,
                )
            )
        else:
            drugs.append(calls[drug.drug])
    findings = []
    for found_call in genotype.calls:
        if found_call.id in resistance:
            status = MutationStatus.RESISTANCE
        elif characterised.get(found_call.id, False):
            status = MutationStatus.POLYMORPHISM
        else:
            status = MutationStatus.UNKNOWN
        findings.append(
            MutationFinding(found_call.id, found_call.frequency, status, found_call.haplotype)
        )
    used = {f.rule for d in drugs for f in d.flags}
    used |= {c.curation for d in drugs for c in d.contributions if c.curation}
    used |= {c.listed for d in drugs for c in d.contributions if c.listed}
    unverified = _unverified(index) + tuple(
        note for key, note in index.unverified_rows.items() if key in used
    )
    if genotype.min_depth is not None:
        unverified += ("Minimum read depth for NGS variants (a reference default, no guideline)",)
    return ResistanceReport(
        knowledge=knowledge.stamp(),
        threshold=genotype.threshold,
        genes_tested=genotype.genes_tested,
        mutations=tuple(findings),
        minority=genotype.minority,
        drugs=tuple(drugs),
        unknown=tuple(f.id for f in findings if f.status is MutationStatus.UNKNOWN),
        coverage=genotype.coverage,
        warnings=genotype.warnings,
        unverified=unverified,
        source=genotype.source,
        virus=virus,
        min_depth=genotype.min_depth,
        low_depth=genotype.low_depth,
    )


def _unverified(index: _Index) -> tuple[str, ...]:
    """The unverified facts a report used, named briefly; how each was (not) checked is the
    row's note in the pack's provenance (the knowledge pages), not report text."""
    notes = []
    if not index.levels.verified:
        notes.append("Fold-change bands and reporting threshold")
    for drug in index.drugs:
        if not drug.verified:
            notes.append(f"Target genes of {drug.drug}")
    return tuple(notes)
