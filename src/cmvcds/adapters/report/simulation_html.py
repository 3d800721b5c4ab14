"""The screening simulation as text and as an HTML report (tables, SVG charts, every source).

In the language being rendered (:mod:`cmvcds.adapters.web.i18n`: the page's, or ``cmvcds simulate
--lang``): the report's own words from the gettext catalogue, the strategies' titles and
descriptions likewise, the parameters' and populations' labels from the pack's
``clinical_texts_it``; numbers in the language's format. Sources are cited as written.
Charts are drawn with matplotlib (Agg backend, SVG inline); nothing is fetched from the network.
"""

from __future__ import annotations

import io
import textwrap
from html import escape
from typing import Any

from babel.numbers import format_decimal, format_percent

from cmvcds.adapters.web.i18n import N_, current_language, gettext
from cmvcds.adapters.web.texts import clinical
from cmvcds.knowledge import Knowledge
from cmvcds.simulation import SimulationResult
from cmvcds.simulation.parameters import parameter_rows, population
from cmvcds.simulation.strategies import Strategy

__all__ = ["DISTRIBUTIONS", "ROWS", "number", "percent", "render_html", "render_text", "report_body", "title"]

#: Output rows shown per strategy, with their labels (per 100,000 pregnancies).
ROWS = (
    ("primary_infections", N_("Primary maternal infections")),
    ("primary_detected", N_("Primary infections detected")),
    ("women_treated", N_("Women given valacyclovir (prevention)")),
    ("in_utero_treated", N_("In-utero treatments")),
    ("amniocenteses", N_("Amniocenteses")),
    ("fetal_infections", N_("Fetal infections")),
    ("fetal_infections_averted", N_("Fetal infections averted")),
    ("symptomatic_newborns", N_("Symptomatic newborns")),
    ("symptomatic_averted", N_("Symptomatic newborns averted")),
    ("sequelae", N_("Children with sequelae")),
    ("sequelae_averted", N_("Sequelae averted")),
    ("terminations", N_("Terminations")),
    ("nns", N_("Number needed to screen (per fetal infection averted)")),
    ("nnt", N_("Number needed to treat (per fetal infection averted)")),
    ("cost_eur", N_("Total cost (EUR)")),
    ("incremental_cost_eur", N_("Incremental cost vs reference (EUR)")),
    ("qalys_gained", N_("QALYs gained vs reference")),
    ("icer_eur_per_qaly", N_("ICER (EUR per QALY gained)")),
)
#: The PSA distributions of the parameters, as the report names them.
DISTRIBUTIONS = {
    "beta": N_("beta"),
    "lognormal": N_("lognormal"),
    "triangular": N_("triangular"),
    "uniform": N_("uniform"),
    "fixed": N_("fixed"),
}


def number(value: float, pattern: str = "#,##0.######") -> str:
    """``value`` as the language being rendered writes numbers (20,000.5 or 20.000,5)."""
    return format_decimal(value, pattern, locale=current_language())


def percent(value: float) -> str:
    """A proportion as a percentage with one decimal, in the language being rendered."""
    return format_percent(value, "#,##0.0%", locale=current_language())


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return number(value, "#,##0" if abs(value) >= 100 else "#,##0.0")
    return number(value, "#,##0") if isinstance(value, int) else str(value)


def title(strategy: Strategy) -> str:
    """The strategy's name on the report, in the language being rendered."""
    return gettext(strategy.title)


def render_text(result: SimulationResult) -> str:
    """A plain table: one column per strategy (headed by its ``--strategies`` name)."""
    names = [s.name for s in result.strategies]
    labels = [(key, gettext(label)) for key, label in ROWS]
    width = max(len(label) for _, label in labels) + 2
    knowledge = result.knowledge.get("version", "")
    if result.population:
        heading = gettext("CMV screening simulation: %(n)s pregnancies, seed %(seed)s, per 100,000 (reference: "
                          "%(reference)s; knowledge %(version)s; population %(population)s, seroprevalence %(seroprevalence)s)")
    else:
        heading = gettext("CMV screening simulation: %(n)s pregnancies, seed %(seed)s, per 100,000 (reference: "
                          "%(reference)s; knowledge %(version)s)")  # fmt: skip
    lines = [
        heading % {"n": _fmt(result.n), "seed": result.seed, "reference": names[0], "version": knowledge,
                   "population": result.population, "seroprevalence": percent(result.inputs["seroprevalence"])},
        "".ljust(width) + "".join(n.rjust(18) for n in names),
    ]  # fmt: skip
    for key, label in labels:
        lines.append(label.ljust(width) + "".join(_fmt(result.base[n][key]).rjust(18) for n in names))
    if result.psa:
        curves = ", ".join(f"{n} {format_percent(result.ceac[n][8], locale=current_language())}" for n in names)
        lines.append(gettext("PSA: %(draws)s draws; CEAC at EUR 40,000/QALY: %(curves)s")
                     % {"draws": len(result.psa), "curves": curves})  # fmt: skip
    return "\n".join(lines)


def render_html(result: SimulationResult, knowledge: Knowledge) -> str:
    """A self-contained HTML page."""
    name = escape(gettext("CMV screening simulation"))
    heading = escape(gettext("CMV screening in pregnancy: simulated policies"))
    return f"""<!doctype html>
<html lang="{current_language()}"><head><meta charset="utf-8"><title>{name}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
th[scope=row]{{text-align:left}}.unverified{{color:#a40}}figure{{margin:1em 0}}</style></head><body>
<h1>{heading}</h1>
{report_body(result, knowledge)}
</body></html>"""


def report_body(result: SimulationResult, knowledge: Knowledge) -> str:
    """The report without its page: summary, results table, charts, inputs with sources (the
    web page embeds it under its own header)."""
    names = [s.name for s in result.strategies]
    head = "".join(f"<th>{escape(title(s))}</th>" for s in result.strategies)
    body = "".join(
        f"<tr><th scope='row'>{escape(label)}</th>"
        + "".join(f"<td>{_fmt(result.base[n][key])}</td>" for n in names)
        + "</tr>"
        for key, label in ((key, gettext(label)) for key, label in ROWS)
    )
    charts = [_bar_chart(result)]
    if result.psa:
        charts += [_ceac_chart(result), _plane_chart(result)]
    if result.tornado:
        charts.append(_tornado_chart(result))
    strategies = "".join(
        f"<li><b>{escape(title(s))}</b> (<code>{escape(s.name)}</code>): {escape(gettext(s.label))}</li>"
        for s in result.strategies
    )
    run = gettext("%(n)s simulated pregnancies (seed %(seed)s), each run through the AIFA Law 648/96 valacyclovir "
                  "assessment of cmvcds (knowledge %(version)s, sha256 %(sha)s…).")  # fmt: skip
    run %= {"n": number(result.n), "seed": result.seed, "version": escape(result.knowledge.get("version", "")),
            "sha": escape(result.knowledge.get("sha256", "")[:12])}  # fmt: skip
    caveat = gettext("A model, not a prediction: every input is listed below with its source, and unverified inputs are marked.")
    headings = [escape(gettext(h)) for h in (N_("Results per 100,000 pregnancies"), N_("Charts"), N_("Inputs and their sources"))]
    return f"""<p>{run}
{_counts(result, knowledge)}
{escape(caveat)}</p>
<ul>{strategies}</ul>
<h2>{headings[0]}</h2>
<table class="simulation"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>{headings[1]}</h2>{"".join(charts)}
<h2>{headings[2]}</h2>{_parameters(result, knowledge)}"""


def _counts(result: SimulationResult, knowledge: Knowledge) -> str:
    """The unit and reference of the counts, and the seroprevalence row chosen (``--population``)."""
    reference = f"<b>{escape(title(result.strategies[0]))}</b>"
    if result.population is None:
        return gettext("Counts per 100,000 pregnancies; reference strategy %(reference)s.") % {"reference": reference}
    row = population(knowledge, result.population)
    return gettext(
        "Counts per 100,000 pregnancies; reference strategy %(reference)s; population %(population)s "
        "(seroprevalence %(seroprevalence)s)."
    ) % {"reference": reference, "population": f"<b>{escape(clinical(row.label))}</b>",
         "seroprevalence": percent(result.inputs["seroprevalence"])}  # fmt: skip


def _parameters(result: SimulationResult, knowledge: Knowledge) -> str:
    rows = []
    unverified = escape(gettext("(unverified)"))
    for p in parameter_rows(knowledge, result.population):
        sources = "; ".join(f"<cite>{escape(knowledge.sources[c].citation())}</cite>" for c in p.citations)
        flag = f" <span class='unverified'>{unverified}</span>" if not p.verified else ""
        unit = f" {p.currency} {p.price_year}" if p.currency else ""
        used = result.inputs.get(p.id, p.base)
        distribution = gettext(DISTRIBUTIONS[p.distribution])
        rows.append(
            f"<tr><th scope='row'>{escape(clinical(p.label))}{flag}<br><code>{escape(p.id)}</code></th>"
            f"<td>{number(used)}{unit}</td><td>{number(p.low)}–{number(p.high)} ({escape(distribution)})</td>"
            f"<td style='text-align:left'>{sources}</td></tr>"
        )
    heads = "".join(f"<th>{escape(gettext(h))}</th>" for h in (N_("Parameter"), N_("Used"), N_("Range (PSA)"), N_("Sources")))
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _svg(figure: Any, caption: str) -> str:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for ax in figure.axes:  # numeric ticks as the language writes numbers (0,2 and 20.000 in Italian)
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):
                axis.set_major_formatter(FuncFormatter(lambda value, _: number(value)))
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})  # the same run, the same page
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "cmvcds"  # stable SVG ids: the same run gives the same page
    return plt


def _bar_chart(result: SimulationResult) -> str:
    plt = _pyplot()
    keys = ("fetal_infections", "symptomatic_newborns", "sequelae", "women_treated", "amniocenteses")
    labels = dict(ROWS)
    figure, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / len(result.strategies)
    for i, s in enumerate(result.strategies):
        heights = [result.base[s.name][key] or 0 for key in keys]
        ax.bar([k + i * width for k in range(len(keys))], heights, width, label=title(s))
    ticks = [textwrap.fill(gettext(labels[k]), 18) for k in keys]
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))], ticks, fontsize=8)
    ax.set_ylabel(gettext("per 100,000 pregnancies"))
    ax.legend()
    return _svg(figure, gettext("Outcomes per 100,000 pregnancies by strategy."))


def _ceac_chart(result: SimulationResult) -> str:
    from cmvcds.simulation.run import WTP_GRID

    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(7, 3.5))
    for s in result.strategies:
        ax.plot(WTP_GRID, result.ceac[s.name], label=title(s))
    ax.set_xlabel(gettext("willingness to pay (EUR per QALY)"))
    ax.set_ylabel(gettext("probability cost-effective"))
    ax.set_ylim(0, 1)
    ax.legend()
    caption = gettext("Cost-effectiveness acceptability curves (%(draws)s PSA draws).")
    return _svg(figure, caption % {"draws": len(result.psa)})


def _plane_chart(result: SimulationResult) -> str:
    plt = _pyplot()
    reference = result.strategies[0].name
    figure, ax = plt.subplots(figsize=(7, 3.5))
    for s in result.strategies[1:]:
        dq = [(d[reference]["qaly_loss"] - d[s.name]["qaly_loss"]) * 100_000 for d in result.psa]
        dc = [(d[s.name]["cost_eur"] - d[reference]["cost_eur"]) * 100_000 for d in result.psa]
        ax.scatter(dq, dc, s=8, label=title(s))
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel(gettext("QALYs gained per 100,000"))
    ax.set_ylabel(gettext("incremental cost per 100,000 (EUR)"))
    ax.legend()
    caption = gettext("Cost-effectiveness plane against %(reference)s (PSA draws).")
    return _svg(figure, caption % {"reference": title(result.strategies[0])})


def _tornado_chart(result: SimulationResult) -> str:
    plt = _pyplot()
    bars = result.tornado[:12][::-1]
    labels = [textwrap.fill(clinical(b["label"]), 50) for b in bars]
    figure, ax = plt.subplots(figsize=(8, 0.3 * sum(label.count("\n") + 1 for label in labels) + 1))
    for i, bar in enumerate(bars):
        lo, hi = bar["nmb_at_low"], bar["nmb_at_high"]
        ax.barh(i, hi - lo, left=lo, color="tab:blue" if hi >= lo else "tab:orange")
    ax.set_yticks(range(len(bars)), labels, fontsize=8)
    xlabel = gettext("net monetary benefit per 100,000 at EUR %(wtp)s/QALY (EUR)")
    ax.set_xlabel(xlabel % {"wtp": number(result.wtp, "#,##0")})
    focus = result.strategies[1] if len(result.strategies) > 1 else result.strategies[0]
    caption = gettext("Tornado: %(focus)s against %(reference)s, each parameter at its low and high value.")
    return _svg(figure, caption % {"focus": title(focus), "reference": title(result.strategies[0])})
