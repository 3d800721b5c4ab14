"""The screening simulation as text and as an HTML report (tables, SVG charts, every source).

Charts are drawn with matplotlib (Agg backend, SVG inline); nothing is fetched from the network.
"""

from __future__ import annotations

import io
from html import escape
from typing import Any

from cmvcds.adapters.web.i18n import N_
from cmvcds.adapters.web.i18n import gettext as _
from cmvcds.adapters.web.texts import clinical
from cmvcds.knowledge import Knowledge
from cmvcds.simulation import SimulationResult
from cmvcds.simulation.parameters import parameter_rows

__all__ = ["ROWS", "render_html", "render_text", "report_body"]

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


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return str(value)


def render_text(result: SimulationResult) -> str:
    """A plain table: one column per strategy."""
    names = [s.name for s in result.strategies]
    width = max(len(label) for _, label in ROWS) + 2
    lines = [
        f"CMV screening simulation: {result.n:,} pregnancies, seed {result.seed}, per 100,000 "
        f"(reference: {names[0]}; knowledge {result.knowledge.get('version', '')})",
        "".ljust(width) + "".join(n.rjust(18) for n in names),
    ]
    for key, label in ROWS:
        lines.append(label.ljust(width) + "".join(_fmt(result.base[n][key]).rjust(18) for n in names))
    if result.psa:
        lines.append(f"PSA: {len(result.psa)} draws; CEAC at EUR 40,000/QALY: " + ", ".join(
            f"{n} {result.ceac[n][8]:.0%}" for n in names))  # fmt: skip
    return "\n".join(lines)


def render_html(result: SimulationResult, knowledge: Knowledge) -> str:
    """A self-contained HTML page."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CMV screening simulation</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
th[scope=row]{{text-align:left}}.unverified{{color:#a40}}figure{{margin:1em 0}}</style></head><body>
<h1>CMV screening in pregnancy: simulated policies</h1>
{report_body(result, knowledge)}
</body></html>"""


def report_body(result: SimulationResult, knowledge: Knowledge) -> str:
    """The report without its page: summary, results table, charts, inputs with sources (the
    web page embeds it under its own header)."""
    names = [s.name for s in result.strategies]
    head = "".join(f"<th>{escape(s.name)}</th>" for s in result.strategies)
    body = "".join(
        f"<tr><th scope='row'>{escape(_(label))}</th>"
        + "".join(f"<td>{_fmt(result.base[n][key])}</td>" for n in names)
        + "</tr>"
        for key, label in ROWS
    )
    charts = [_bar_chart(result)]
    if result.psa:
        charts += [_ceac_chart(result), _plane_chart(result)]
    if result.tornado:
        charts.append(_tornado_chart(result))
    strategies = "".join(
        f"<li><b>{escape(s.name)}</b>: {escape(clinical(s.label))}</li>" for s in result.strategies
    )
    summary = escape(
        _(
            "%(n)s simulated pregnancies (seed %(seed)s), each run through the AIFA Law 648/96 "
            "valacyclovir assessment of cmvcds (knowledge %(version)s, sha256 %(sha)s…). Counts per "
            "100,000 pregnancies; reference strategy %(reference)s. A model, not a prediction: every "
            "input is listed below with its source, and unverified inputs are marked."
        )
        % {"n": f"{result.n:,}", "seed": result.seed, "version": result.knowledge.get("version", ""),
           "sha": result.knowledge.get("sha256", "")[:12], "reference": "\x00"}
    ).replace("\x00", f"<b>{escape(names[0])}</b>")  # fmt: skip
    results, drawn = _("Results per 100,000 pregnancies"), _("Charts")
    inputs = _("Inputs and their sources")
    return f"""<p>{summary}</p>
<ul>{strategies}</ul>
<h2>{escape(results)}</h2>
<table class="simulation"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>{escape(drawn)}</h2>{"".join(charts)}
<h2>{escape(inputs)}</h2>{_parameters(result, knowledge)}"""


def _parameters(result: SimulationResult, knowledge: Knowledge) -> str:
    rows = []
    unverified = escape(_("unverified"))
    for p in parameter_rows(knowledge):
        sources = "; ".join(f"<cite>{escape(knowledge.sources[c].citation())}</cite>"
                            for c in p.citations)  # fmt: skip
        flag = f" <span class='unverified'>({unverified})</span>" if not p.verified else ""
        unit = f" {p.currency} {p.price_year}" if p.currency else ""
        used = result.inputs.get(p.id, p.base)
        rows.append(
            f"<tr><th scope='row'>{escape(clinical(p.label))}{flag}<br><code>{escape(p.id)}</code></th>"
            f"<td>{used:g}{unit}</td><td>{p.low:g}–{p.high:g} ({p.distribution})</td>"
            f"<td style='text-align:left'>{sources}</td></tr>"
        )
    heads = (_("Parameter"), _("Used"), _("Range (PSA)"), _("Sources"))
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _svg(figure: Any, caption: str) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
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
    names = [s.name for s in result.strategies]
    keys = ("fetal_infections", "symptomatic_newborns", "sequelae", "women_treated", "amniocenteses")
    figure, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ax.bar(
            [k + i * width for k in range(len(keys))],
            [result.base[name][key] or 0 for key in keys],
            width,
            label=name,
        )
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))], [_(dict(ROWS)[k]) for k in keys])
    ax.set_ylabel(_("per 100,000 pregnancies"))
    ax.legend()
    return _svg(figure, _("Outcomes per 100,000 pregnancies by strategy."))


def _ceac_chart(result: SimulationResult) -> str:
    from cmvcds.simulation.run import WTP_GRID

    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(7, 3.5))
    for name, curve in result.ceac.items():
        ax.plot(WTP_GRID, curve, label=name)
    ax.set_xlabel(_("willingness to pay (EUR per QALY)"))
    ax.set_ylabel(_("probability cost-effective"))
    ax.set_ylim(0, 1)
    ax.legend()
    caption = _("Cost-effectiveness acceptability curves (%(num)d PSA draws).")
    return _svg(figure, caption % {"num": len(result.psa)})


def _plane_chart(result: SimulationResult) -> str:
    plt = _pyplot()
    reference = result.strategies[0].name
    figure, ax = plt.subplots(figsize=(7, 3.5))
    for s in result.strategies[1:]:
        dq = [(d[reference]["qaly_loss"] - d[s.name]["qaly_loss"]) * 100_000 for d in result.psa]
        dc = [(d[s.name]["cost_eur"] - d[reference]["cost_eur"]) * 100_000 for d in result.psa]
        ax.scatter(dq, dc, s=8, label=s.name)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel(_("QALYs gained per 100,000"))
    ax.set_ylabel(_("incremental cost per 100,000 (EUR)"))
    ax.legend()
    caption = _("Cost-effectiveness plane against %(reference)s (PSA draws).")
    return _svg(figure, caption % {"reference": reference})


def _tornado_chart(result: SimulationResult) -> str:
    plt = _pyplot()
    bars = result.tornado[:12][::-1]
    figure, ax = plt.subplots(figsize=(8, 0.35 * len(bars) + 1))
    for i, bar in enumerate(bars):
        lo, hi = bar["nmb_at_low"], bar["nmb_at_high"]
        ax.barh(i, hi - lo, left=lo, color="tab:blue" if hi >= lo else "tab:orange")
    ax.set_yticks(range(len(bars)), [b["parameter"] for b in bars])
    label = _("net monetary benefit per 100,000 at EUR %(wtp)s/QALY (EUR)")
    ax.set_xlabel(label % {"wtp": f"{result.wtp:,.0f}"})
    focus = result.strategies[1].name if len(result.strategies) > 1 else result.strategies[0].name
    caption = _(
        "Tornado: %(focus)s against %(reference)s, each parameter at its low and high value."
    )
    return _svg(figure, caption % {"focus": focus, "reference": result.strategies[0].name})
