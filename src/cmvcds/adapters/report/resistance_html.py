"""The resistance report (``cmvcds-resistance/1``) as text and as a printable HTML page.

Both renderings are built from the JSON document only (plus, for the HTML page, the knowledge
pack's study titles and source citations), so that what a virologist signs is exactly what the
API returns.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from cmvcds.engine.resistance import Level
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.resistance import Evidence, Study

__all__ = [
    "LEVEL_WORDING",
    "lollipop_svg",
    "lollipops",
    "resistance_html",
    "resistance_summary_row",
    "resistance_text",
]

LEVEL_WORDING = {level.value: level.wording for level in Level}
HAPLOTYPE_WORDING = {
    "majority": "majority haplotype (variants above 50 %, linked)",
    "separate": "own haplotype (not shown to share genomes with other variants)",
    "mixture": "mixture (another residue was reported at this codon; proportion not given)",
}
FLAG_WORDING = {
    "combined-effect-uncharacterised": "Combined effect uncharacterised",
    "possible-combination": "Possible combination, linkage not shown",
    "frequency-not-given": "Depends on a variant of unknown frequency",
    "resistance-below-threshold": "Resistance mutation below the threshold",
    "below-minimum-depth": "Variant below the minimum read depth",
    "depth-not-given": "Depends on a variant with no read depth",
}
#: Flags that mean the level may be higher (linkage); the others qualify the call otherwise.
LINKAGE_FLAGS = frozenset({"combined-effect-uncharacterised", "possible-combination"})
#: The batch table's mark of each flag after the short level (legend in the CLI).
FLAG_MARK = {
    "frequency-not-given": "?",
    "resistance-below-threshold": "*",
    "below-minimum-depth": "!",
    "depth-not-given": "~",
}
NOT_GIVEN = "frequency not given"
#: A mutation list's changes are present as the laboratory reported them, not measured.
LISTED = "listed (frequency not given)"
COVERAGE_UNKNOWN = (
    "coverage unknown — a VCF lists variants, not the codons read; declare the genes the assay "
    "covers (--genes-tested)"
)


def _frequency(value: float | None, digits: int = 1, listed: bool = False) -> str:
    """A frequency as a percentage; one the input did not give is said so, never a number.

    A mutation list's changes carry 1.0 in the JSON (present as reported, design.md) but were not
    measured: they are shown as listed, never as "100.0%" (probe15 A5)."""
    if listed:
        return LISTED
    if value is None:
        return NOT_GIVEN
    return f"{value * 100:.{digits}f}%"


SHORT = {
    "susceptible": "S",
    "low": "LOW",
    "moderate": "MOD",
    "high": "HIGH",
    "unknown": "UNK",
    "not_assessed": "NA",
}


def _fold(value: list[float] | None) -> str:
    if not value:
        return "—"
    low, high = value
    return f"{low:g}×" if low == high else f"{low:g}–{high:g}×"


def _curated(call: dict[str, Any]) -> list[str]:
    """One line per curated evidence entry: the level measured, the level reported, and why."""
    lines = []
    for e in call.get("evidence", []):
        if e.get("curated"):
            measured = e["curated"]["level_measured"]
            fold = f" {_fold(e['fold_change'])}" if e["fold_change"] else ""
            lines.append(
                f"{e['mutation']}: measured {measured}{fold}, reported {e['level']} "
                f"(curated): {e['curated']['reason']}"
            )
    return lines


def _coverage(doc: dict[str, Any]) -> list[str]:
    lines = []
    for gene, item in doc.get("coverage", {}).items():
        spans = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in item["codons"])
        if item["basis"] == "listed":
            lines.append(
                f"{gene}: extent sequenced not stated — a mutation list gives only the codons "
                f"listed ({spans or 'none'}); the gene was declared tested"
            )
        elif item["basis"] == "variants":
            lines.append(f"{gene}: {COVERAGE_UNKNOWN}")
        else:
            lines.append(f"{gene}: codons {spans} ({item['basis']})")
    return lines


def _linkage(call: dict[str, Any]) -> bool:
    return any(f["code"] in LINKAGE_FLAGS for f in call.get("flags", []))


def _or_higher(call: dict[str, Any]) -> str:
    codes = {f["code"] for f in call.get("flags", [])}
    if not codes & LINKAGE_FLAGS:
        return ""
    if "combined-effect-uncharacterised" in codes:
        return " or higher (combined effect not measured)"
    return " or higher if the flagged mutations share genomes (linkage not shown)"


NOT_MEASURED = " (reported resistant without a fold change: level not measured, at least low-level)"


def _not_measured(call: dict[str, Any]) -> str:
    """Said when a resistant call rests only on studies that report "resistant" without a fold
    change (levels.yaml ``resistant_without_value``): its level is a floor, not a measure (e.g.
    HSV thymidine-kinase stop codons, classically high-level aciclovir resistance)."""
    at_level = [e for e in call.get("evidence", []) if e.get("level") == call["level"]]
    if call["level"] in ("susceptible", "unknown", "not_assessed") or call.get("fold_change"):
        return ""
    return NOT_MEASURED if at_level and all(e.get("qualitative") for e in at_level) else ""


def resistance_text(doc: dict[str, Any]) -> str:
    """The report as plain text: drugs first, then mutations, minority variants and coverage."""
    k = doc["knowledge"]
    from cmvcds.engine.resistance.viruses import virus_tables

    header = f"cmvcds resistance report ({virus_tables(doc.get('virus') or 'cmv').name})"
    if doc.get("sample_id"):
        header += f" — sample {doc['sample_id']}"
    lines = [
        header,
        f"knowledge {k['version']} (sha256 {k['sha256'][:12]}…); input {doc.get('input', '?')}; "
        f"reporting threshold {doc['threshold']:.0%}",
        f"genes tested: {', '.join(doc['genes_tested']) or 'none'}",
        "",
        "DRUGS",
    ]
    for drug, call in doc["drugs"].items():
        line = f"  {drug:<15} {LEVEL_WORDING[call['level']]}{_not_measured(call)}"
        if call.get("flags"):
            line += _or_higher(call)
        if call["fold_change"]:
            alone = " (each mutation alone)" if _linkage(call) else ""
            line += f"  fold change {_fold(call['fold_change'])}{alone}"
        if call["mutations"]:
            line += f"  ({', '.join(call['mutations'])})"
        lines.append(line)
        for flag in call.get("flags", []):
            label = (
                "" if flag["code"] in LINKAGE_FLAGS else f"{FLAG_WORDING[flag['code']].upper()}: "
            )
            lines.append(f"    ! {label}{flag['text']} [{', '.join(flag['mutations'])}]")
        if not call.get("phenotype_from"):
            lines += [f"    curated: {c}" for c in _curated(call)]
        if call.get("unknown"):
            lines.append(f"    uncharacterised: {', '.join(call['unknown'])}")
        if call.get("genes_not_tested"):
            lines.append(f"    not sequenced: {', '.join(call['genes_not_tested'])}")
        if call.get("not_covered"):
            lines.append(
                f"    known resistance codons not covered: {', '.join(call['not_covered'])}"
            )
        if call.get("coverage_unknown"):
            lines.append(
                f"    not assessable for {drug}: coverage of {', '.join(call['coverage_unknown'])} "
                "unknown (the VCF lists variants, not the codons read)"
            )
        if call.get("phenotype_from"):
            lines.append(f"    {call.get('note') or 'same phenotype as ' + call['phenotype_from']}")
    listed = doc.get("input") == "mutations"
    lines += ["", "MUTATIONS"]
    lines += [
        f"  {m['id']:<20} {_frequency(m['frequency'], listed=listed):>6}  {m['status']}"
        + (
            f"  ({HAPLOTYPE_WORDING.get(m['haplotype'], m['haplotype'])})"
            if m.get("haplotype")
            else ""
        )
        for m in doc["mutations"]
    ] or ["  none"]
    if doc["minority"]:
        lines += ["", f"MINORITY VARIANTS (below {doc['threshold']:.0%}; not used for the calls)"]
        lines += [f"  {m['id']:<20} {_frequency(m['frequency']):>6}" for m in doc["minority"]]
    if doc.get("low_depth"):
        lines += ["", f"NOT CALLED (read depth below the minimum {doc['min_depth']})"]
        lines += [
            f"  {m['id']:<20} {_frequency(m['frequency']):>6}  depth {m['depth']} below the "
            f"minimum {doc['min_depth']}: not called"
            for m in doc["low_depth"]
        ]
    lines += ["", "COVERAGE", *[f"  {c}" for c in _coverage(doc)]]
    for title, key in (("WARNINGS", "warnings"), ("NOT YET VERIFIED", "unverified")):
        if doc.get(key):
            lines += ["", title, *[f"  - {w}" for w in doc[key]]]
    sources = sorted({c for call in doc["drugs"].values() for c in call.get("citations", [])})
    if sources:  # every call names where it comes from (the full references: --format html)
        lines += ["", "SOURCES", *[f"  {c}" for c in sources]]
    return "\n".join(lines) + "\n"


def resistance_summary_row(doc: dict[str, Any], drugs: list[str]) -> list[str]:
    """One batch-table row: sample, a short level per drug, the mutations found."""
    levels = [
        SHORT[doc["drugs"][d]["level"]]
        + ("+" if _linkage(doc["drugs"][d]) else "")
        + "".join(
            sorted(
                {
                    FLAG_MARK[f["code"]]
                    for f in doc["drugs"][d].get("flags", [])
                    if f["code"] in FLAG_MARK
                }
            )
        )
        for d in drugs
    ]
    mutations = (
        ", ".join(
            [m["id"] for m in doc["mutations"]]
            + [  # not called, but named: the "!" of a drug says which variant (review23c 7)
                f"{m['id']} (not called: depth {m['depth']} below {doc.get('min_depth')})"
                for m in doc.get("low_depth") or []
            ]
        )
        or "—"
    )
    return [str(doc.get("sample_id", "")), *levels, mutations]


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ virus_name }} antiviral resistance report{% if doc.sample_id %} — {{ doc.sample_id }}{% endif %}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#111;max-width:60em}
h1{font-size:1.4em;margin-bottom:.2em}h2{font-size:1.1em;margin-top:1.4em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eee}.meta{color:#444;font-size:.9em}.level{font-weight:600}
.susceptible{background:#e3f1d8}.low{background:#fff3c4}.moderate{background:#ffd9a8}.high{background:#f4b6a6}
.unknown{background:#e4e4f4}.not_assessed{background:#ddd}.small{font-size:.85em}
.flag{color:#8a1c00}.sign td{height:2.5em;border:none;border-bottom:1px solid #555}
@media print{body{margin:1cm}a{color:#000;text-decoration:none}}
</style></head><body>
<h1>{{ virus_name }} antiviral resistance genotype report</h1>
<p class="meta">{% if doc.sample_id %}Sample <b>{{ doc.sample_id }}</b> · {% endif %}input: {{ doc.input }} ·
reference {{ reference }} · reporting threshold {{ '%.0f' % (doc.threshold * 100) }}% ·
knowledge {{ doc.knowledge.version }} (sha256 {{ doc.knowledge.sha256[:12] }}…)</p>

<h2>Interpretation by drug</h2>
<table><tr><th>Drug</th><th>Level</th><th>Fold change (EC50)</th><th>Mutations responsible</th><th>Notes</th></tr>
{% for drug, call in doc.drugs.items() %}
<tr><td>{{ drug }}</td><td class="level {{ call.level }}">{{ wording[call.level] }}{{ not_measured(call) }}{% if call.flags %}{{ or_higher(call) }}{% endif %}{% for flag in call.flags if flag.code == 'frequency-not-given' %}<br><b class="flag">{{ flag_wording[flag.code] }}: {{ flag.mutations | join(', ') }}</b>{% endfor %}</td>
<td>{{ fold(call.fold_change) }}{% if linkage(call) and call.fold_change %} (each mutation alone){% endif %}</td><td>{{ call.mutations | join(', ') or '—' }}</td>
<td class="small">{% for flag in call.flags %}<b class="flag">{{ flag_wording.get(flag.code, flag.code) }} ({{ flag.mutations | join(' + ') }}):</b> {{ flag.text }} {% endfor %}
{% if not call.phenotype_from %}{% for line in curated(call) %}Curated: {{ line }} {% endfor %}{% endif %}{% if call.unknown %}Uncharacterised: {{ call.unknown | join(', ') }}. {% endif %}
{% if call.genes_not_tested %}Not sequenced: {{ call.genes_not_tested | join(', ') }}. {% endif %}
{% if call.not_covered %}Known resistance codons not covered: {{ call.not_covered | join(', ') }}. {% endif %}
{% if call.coverage_unknown %}Not assessable for {{ drug }}: coverage of {{ call.coverage_unknown | join(', ') }} unknown (the VCF lists variants, not the codons read). {% endif %}
{% if call.note %}{{ call.note }}{% endif %}</td></tr>
{% endfor %}</table>

<h2>Mutations found</h2>
{% if lollipops %}<div class="lollipops">{% for svg in lollipops %}{{ svg | safe }}{% endfor %}</div>{% endif %}
{% if doc.mutations %}<table><tr><th>Mutation</th><th>Frequency</th><th>Status</th><th>Evidence (per drug)</th></tr>
{% for m in doc.mutations %}<tr><td>{{ m.id }}</td><td>{{ frequency(m.frequency, 1, doc.input == 'mutations') }}{% if m.haplotype %}<br><span class="small">{{ haplotype_wording.get(m.haplotype, m.haplotype) }}</span>{% endif %}</td><td>{{ m.status }}</td>
<td class="small">{% for drug, call in doc.drugs.items() if not call.phenotype_from %}{% for e in call.evidence if m.id in e.mutation.split('+') %}
{{ drug }}: {{ e.level }}{% if e.polymorphism %} (known polymorphism){% endif %}{% if e.fold_change %} ({{ fold(e.fold_change) }}){% endif %}{% if e.combination %} as {{ e.mutation }}{% endif %},
{{ evidence_wording.get(e.evidence, e.evidence) }}, {{ e.studies }} stud{{ 'y' if e.studies == 1 else 'ies' }}{% if e.qualitative %}, resistant without a fold change{% endif %}{% if e.curated %}; measured {{ e.curated.level_measured }}, curated to {{ e.level }}{% endif %}<br>
{% endfor %}{% endfor %}</td></tr>{% endfor %}</table>
{% else %}<p>No amino-acid change from the reference in the genes tested.</p>{% endif %}

{% if doc.minority %}<h2>Minority variants (below the threshold; not used for the calls)</h2>
<table><tr><th>Mutation</th><th>Frequency</th></tr>
{% for m in doc.minority %}<tr><td>{{ m.id }}</td><td>{{ frequency(m.frequency) }}</td></tr>{% endfor %}</table>{% endif %}

{% if doc.low_depth %}<h2>Not called: read depth below the minimum {{ doc.min_depth }}</h2>
<table><tr><th>Mutation</th><th>Frequency</th><th>Depth</th></tr>
{% for m in doc.low_depth %}<tr><td>{{ m.id }}</td><td>{{ frequency(m.frequency) }}</td><td>{{ m.depth }} (below the minimum {{ doc.min_depth }}: not called)</td></tr>{% endfor %}</table>{% endif %}

<h2>Genes and coverage</h2>
<ul>{% for line in coverage %}<li>{{ line }}</li>{% endfor %}</ul>

{% if doc.warnings or doc.unverified %}<h2>Warnings</h2><ul>
{% for w in doc.warnings %}<li>{{ w }}</li>{% endfor %}
{% for w in doc.unverified %}<li>Not yet verified against its primary source: {{ w }}</li>{% endfor %}</ul>{% endif %}

<h2>Method</h2>
<p class="small">Genotypic interpretation. Each mutation is assessed for each drug from the published fold changes
in HerpesDRG-DB (status A, {{ virus_name }}), using the strongest evidence class available (recombinant virus over
laboratory-selected strain over clinical isolate) and the median fold change; a phenotype measured for a combination
of mutations is applied only when the whole combination is present and the frequencies show the mutations share
genomes (their sum above 100 % for two), otherwise the call is flagged as a possible combination; NGS variants above 50 %
are read as one majority haplotype, the others each as its own (never merged into an invented codon), and a minority
frameshift never changes the reading frame of the majority; a variant whose frequency the input does not give (a VCF
record without AF, FREQ, AD or DP4, or a mixed base) is shown as "frequency not given", never as a number, counts as present
and flags each call it drives; a resistance mutation below the reporting threshold is named on its drug's row without
changing the level;{% if doc.virus in (None, 'cmv') %} resistance mutations of UL97 and UL54 found
together without a measured combination are flagged "or higher" (their combined effect is uncharacterised). A curated
level replaces the measured one where the study's own reading or later evidence contradicts it (both are shown).{% endif %} Levels: fold change &lt; 2 susceptible,
2–&lt; 5 low, 5–&lt; 15 moderate, ≥ 15 high. A change of uncharacterised effect makes the drug "unknown", a target
gene not sequenced or not covered makes it "not assessed"; neither is ever reported as susceptible.
{% if doc.virus in (None, 'cmv') %}Valganciclovir shares the phenotype of ganciclovir.{% else %}Valaciclovir shares the phenotype of aciclovir, famciclovir that of penciclovir.{% endif %}</p>

<h2>References</h2>
<ol class="small">{% for ref in references %}<li>{{ ref.title }} <a href="https://doi.org/{{ ref.doi }}">doi:{{ ref.doi }}</a></li>{% endfor %}</ol>
<ul class="small">{% for s in sources %}<li>{{ s }}</li>{% endfor %}</ul>

<h2>Sign-off</h2>
<table class="sign"><tr><td>Reported by:</td><td>Reviewed by (virologist):</td><td>Date:</td></tr></table>
</body></html>
"""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


_STATUS_COLOUR = {"resistance": "#b30000", "unknown": "#c77700", "polymorphism": "#666666"}


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def lollipops(doc: dict[str, Any], lengths: dict[str, int] | None = None) -> list[str]:
    """One inline SVG per gene tested: the gene as a bar (covered codons darker), each mutation
    a stem at its codon whose height is its frequency (filled: called, coloured by status;
    hollow: minority variant). ``lengths``: codons per gene (else the coverage's last codon)."""
    from cmvcds.engine.resistance.mutations import parse_change_id

    width, left, base, tall = 640, 20, 78, 56
    figures = []
    coverage = doc.get("coverage", {})
    for gene in doc["genes_tested"]:
        intervals = coverage.get(gene, {}).get("codons", [])
        name = _escape(gene)
        length = (lengths or {}).get(gene) or max((hi for _, hi in intervals), default=0)
        if not length:
            continue

        def x(codon: int, length: int = length) -> float:
            return round(left + (width - 2 * left) * (codon - 0.5) / length, 1)

        parts = [
            f'<svg class="lollipop" data-gene="{name}" viewBox="0 0 {width} 100" width="{width}" '
            f'height="100" role="img" aria-label="{name}: mutations by codon and frequency">',
            f'<rect x="{left}" y="{base}" width="{width - 2 * left}" height="8" fill="#dddddd"/>',
            *(
                f'<rect x="{x(lo)}" y="{base}" width="{round(x(hi) - x(lo), 1) or 1}" height="8" '
                'fill="#8899aa"/>'
                for lo, hi in intervals
            ),
            f'<text x="{left}" y="98" font-size="10">{name} 1–{length}</text>',
        ]
        entries = [(m, True) for m in doc["mutations"]] + [(m, False) for m in doc["minority"]]
        for mutation, called in entries:
            if not mutation["id"].startswith(gene + ":"):
                continue
            codon = parse_change_id(mutation["id"]).start
            given = mutation["frequency"]  # not given: a full-height stem, dashed, labelled so
            # a mutation list's change is present as reported, not measured (its JSON 1.0 is
            # no frequency): labelled "listed", a full-height dotted stem (review23c 5)
            listed = called and doc.get("input") == "mutations"
            top = round(
                base - tall * (1.0 if given is None or listed else max(0.05, min(1.0, given))),
                1,
            )
            colour = _STATUS_COLOUR.get(mutation.get("status", ""), "#999999")
            fill = colour if called else "white"
            label = _escape(f"{mutation['id']} {_frequency(given, 0, listed=listed)}")
            style = (
                ' stroke-dasharray="1 3" data-listed="true"/>'
                if listed
                else ' stroke-dasharray="3 2"/>'
                if given is None
                else "/>"
            )
            parts += [
                f'<line x1="{x(codon)}" y1="{base}" x2="{x(codon)}" y2="{top}" stroke="{colour}"'
                + style,
                f'<circle data-mutation="{_escape(mutation["id"])}" cx="{x(codon)}" cy="{top}" '
                f'r="4" fill="{fill}" stroke="{colour}"><title>{label}</title></circle>',
            ]
            if called and mutation.get("status") == "resistance":
                parts.append(
                    f'<text x="{x(codon) + 5}" y="{top - 3}" font-size="9">'
                    f"{_escape(mutation['id'].partition(':')[2])}</text>"
                )
        parts.append("</svg>")
        figures.append("".join(parts))
    return figures


def gene_lengths(doc: dict[str, Any], knowledge: Knowledge) -> dict[str, int]:
    """Codons per gene of the document's virus (the lollipops' x axis)."""
    from cmvcds.engine.resistance.genes import reference_genes

    genes = reference_genes(knowledge, doc.get("virus") or "cmv")
    return {name: gene.codons for name, gene in genes.genes.items()}


def lollipop_svg(doc: dict[str, Any], knowledge: Knowledge) -> str:
    """The lollipop plots of a report as one standalone SVG file: one row per gene tested
    (mutations over the gene, stem height = frequency; filled = called, hollow = minority)."""
    figures = lollipops(doc, gene_lengths(doc, knowledge))
    rows = [
        figure.replace('<svg class="lollipop"', f'<svg x="0" y="{100 * i}" class="lollipop"', 1)
        for i, figure in enumerate(figures)
    ]
    title = _escape(f"{doc.get('sample_id') or 'sample'}: mutations by codon and frequency")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{max(1, len(rows)) * 100}" '
        f'viewBox="0 0 640 {max(1, len(rows)) * 100}" role="img" aria-label="{title}">'
        f"<title>{title}</title>{''.join(rows)}</svg>\n"
    )


def resistance_html(doc: dict[str, Any], knowledge: Knowledge | None = None) -> str:
    """A standalone, printable HTML page of a ``cmvcds-resistance/1`` document."""
    dois = sorted(
        {
            r
            for call in doc["drugs"].values()
            for e in call.get("evidence", [])
            for r in e["references"]
        }
    )
    from cmvcds.engine.resistance.viruses import virus_tables

    tables = virus_tables(doc.get("virus") or "cmv")
    titles: dict[str, str] = {}
    sources: list[str] = []
    lengths = None
    reference = f"{tables.strain}"
    if knowledge is not None:
        from cmvcds.engine.resistance.genes import reference_genes

        titles = {s.doi: s.title for s in knowledge.rows(tables.studies, Study)}
        ids = sorted({c for call in doc["drugs"].values() for c in call["citations"]})
        sources = [knowledge.sources[i].citation() for i in ids if i in knowledge.sources]
        genes = reference_genes(knowledge, tables.key)
        lengths = gene_lengths(doc, knowledge)
        reference = f"{genes.accession} ({tables.strain})"
    references = [{"doi": d, "title": titles.get(d, "")} for d in dois]
    template = _ENV.from_string(_TEMPLATE)
    return template.render(
        doc=doc,
        virus_name=tables.name,
        reference=reference,
        evidence_wording={e.value: e.wording for e in Evidence},
        wording=LEVEL_WORDING,
        haplotype_wording=HAPLOTYPE_WORDING,
        or_higher=_or_higher,
        not_measured=_not_measured,
        flag_wording=FLAG_WORDING,
        linkage=_linkage,
        frequency=_frequency,
        fold=_fold,
        curated=_curated,
        lollipops=lollipops(doc, lengths),
        coverage=_coverage(doc),
        references=references,
        sources=sources,
    )
