"""The screening-simulation page: the form of ``cmvcds simulate`` and its report (issue 21).

A web request runs in this server's process, so its size is bounded (``LIMITS``); a region-sized
run with PSA belongs to the CLI (``--workers``, ``--scheduler``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from cmvcds.adapters.api.deps import ClinicDep
from cmvcds.adapters.report.simulation_html import report_body
from cmvcds.adapters.web.render import render
from cmvcds.errors import InputError
from cmvcds.simulation import simulate
from cmvcds.simulation.strategies import STRATEGIES

__all__ = ["LIMITS", "router"]

router = APIRouter(include_in_schema=False)

#: Largest values a web request may ask for (name → (default, maximum)).
LIMITS = {"n": (20_000, 50_000), "psa_draws": (20, 100), "psa_n": (2_000, 5_000), "seed": (1, 2**31 - 1)}


def _page(values: dict[str, str], chosen: list[str], errors: list[str] | None = None,
          report: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    html = render("simulate.html", v=values, chosen=chosen, strategies=STRATEGIES,
                  limits=LIMITS, errors=errors or [], report=report)  # fmt: skip
    return HTMLResponse(html, status_code=status)


@router.get("/simulate", response_class=HTMLResponse)
def simulate_form() -> HTMLResponse:
    return _page({k: str(d) for k, (d, _) in LIMITS.items()}, list(STRATEGIES))


@router.post("/simulate", response_class=HTMLResponse)
async def simulate_page(request: Request, clinic: ClinicDep) -> HTMLResponse:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    chosen = [v for v in form.getlist("strategy") if isinstance(v, str)]
    try:
        numbers = {name: _bounded(values.get(name, ""), name) for name in LIMITS}
        result = await run_in_threadpool(
            simulate, strategies=chosen or ["first-trimester"], n=numbers["n"], seed=numbers["seed"],
            psa_draws=numbers["psa_draws"], psa_n=numbers["psa_n"], knowledge=clinic.knowledge,
        )  # fmt: skip
    except InputError as error:
        return _page(values, chosen, errors=[str(error)], status=422)
    return _page(values, chosen, report=report_body(result, clinic.knowledge))


def _bounded(text: str, name: str) -> int:
    default, maximum = LIMITS[name]
    if not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"expected a whole number, got {text!r}", field=name) from None
    low = 1 if name in ("n", "psa_n") else 0
    if not low <= value <= maximum:
        raise InputError(f"must lie between {low} and {maximum:,} on this page (use the CLI for more)", field=name)
    return value
