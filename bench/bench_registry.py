"""Registry benchmark: 100,000 synthetic subjects in PostgreSQL; the site dashboard and the
main outcome analysis must each answer in under 500 ms.

    .venv/bin/python bench/bench_registry.py [--subjects 100000] [--keep]

Creates its own database ``cmvcds_bench_<random>`` through the ``test`` database on
127.0.0.1:5432 (``CMVCDS_BENCH_PG`` overrides), loads it with COPY (the audit trail is not
written for the bulk load; it plays no part in the timed queries), and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta

import psycopg

from cmvcds.registry import analytics, migrate
from cmvcds.registry.access import Actor
from cmvcds.registry.db import Registry
from cmvcds.registry.models import Role, new_id

ADMIN = os.environ.get("CMVCDS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
SITES = 10
BUDGET_MS = 500.0


def load(dsn: str, subjects: int, seed: int = 2023) -> dict[str, str]:
    """Sites, mothers with consent and the outcome fields, some AEs, queries and withdrawals."""
    rng = random.Random(seed)
    site_ids = {f"S{n:02d}": new_id() for n in range(1, SITES + 1)}
    now = "2026-11-21 10:00:00+00"
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY sites (id, code, name, created_at) FROM STDIN") as copy:
            for code, sid in site_ids.items():
                copy.write_row((sid, code, f"Centre {code}", now))
        subject_rows, consent_rows, value_rows, query_rows = [], [], [], []
        sites = list(site_ids.values())
        for n in range(subjects):
            sid = new_id()
            site = sites[n % SITES]
            enrolled = date(2021, 1, 1) + timedelta(days=rng.randrange(1800))
            subject_rows.append((sid, site, f"BENCH-{n:07d}", "mother", enrolled, now))
            withdrawn = enrolled + timedelta(days=30) if rng.random() < 0.01 else None
            consent_rows.append((new_id(), sid, site, "IS-2.1", enrolled, "study", True, withdrawn))
            treated = rng.random() < 0.46
            timing = rng.choice("123")
            value_rows += [
                (
                    new_id(),
                    sid,
                    site,
                    "maternal_diagnosis",
                    "maternal_infection",
                    1,
                    "infection_timing",
                    timing,
                ),
                (
                    new_id(),
                    sid,
                    site,
                    "valacyclovir_start",
                    "valacyclovir",
                    1,
                    "treated",
                    "1" if treated else "0",
                ),
            ]
            if rng.random() < 0.9:
                infected = rng.random() < (0.11 if treated else 0.30)
                value_rows.append((new_id(), sid, site, "amniocentesis", "amniocentesis", 1, "amnio_cmv_pcr",
                                   "1" if infected else "0"))  # fmt: skip
            value_rows.append((new_id(), sid, site, "delivery", "pregnancy_outcome", 1, "outcome_type",
                               "2" if rng.random() < 0.05 else "1"))  # fmt: skip
            if treated and rng.random() < 0.2:
                value_rows += [
                    (
                        new_id(),
                        sid,
                        site,
                        "valacyclovir_start",
                        "adverse_event",
                        1,
                        "ae_severity",
                        rng.choice("1123"),
                    ),
                    (
                        new_id(),
                        sid,
                        site,
                        "valacyclovir_start",
                        "adverse_event",
                        1,
                        "ae_relation",
                        rng.choice("12345"),
                    ),
                ]
            if rng.random() < 0.03:
                query_rows.append((new_id(), sid, site, "amniocentesis", "amniocentesis", 1, "amnio_cmv_pcr",
                                   rng.choice(["open", "answered", "closed"]), "please confirm", "monitor", now))  # fmt: skip
        for table, columns, rows in [
            ("subjects", "id, site_id, pseudonym, kind, enrolled_on, created_at", subject_rows),
            ("consents", "id, subject_id, site_id, information_sheet_version, signed_on, scope, "
                         "written_648_consent, withdrawn_on", consent_rows),
            ("data_values", "id, subject_id, site_id, event, instrument, instance, field, value", value_rows),
            ("data_queries", "id, subject_id, site_id, event, instrument, instance, field, status, text, "
                             "opened_by, opened_at", query_rows),
        ]:  # fmt: skip
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        connection.commit()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    return site_ids


def timed(label: str, call: Callable[[], object], runs: int = 7) -> float:
    call()  # warm caches and the plan
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    median = statistics.median(samples)
    verdict = "ok" if median < BUDGET_MS else "OVER BUDGET"
    print(
        f"{label:<48} median {median:7.1f} ms  (min {min(samples):.1f}, max {max(samples):.1f})  {verdict}"
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    name = f"cmvcds_bench_{secrets.token_hex(4)}"
    base = ADMIN.rsplit("/", 1)[0]
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    url = base.replace("postgresql://", "postgresql+psycopg://") + "/" + name
    registry = Registry(url)
    try:
        migrate.upgrade(registry.engine)
        start = time.perf_counter()
        site_ids = load(base + "/" + name, args.subjects)
        print(
            f"loaded {args.subjects:,} subjects in {time.perf_counter() - start:.1f} s (PostgreSQL, {SITES} sites)"
        )
        site_user = Actor(
            user_id="bench", username="pi_s01", role=Role.SITE_INVESTIGATOR, site_id=site_ids["S01"]
        )
        central = Actor(user_id="bench", username="dm", role=Role.DATA_MANAGER)
        results = {}
        with registry.session(central) as session:
            results["dashboard_site"] = timed("site dashboard (site investigator, 1 site)",
                                              lambda: analytics.dashboard(session, site_user))  # fmt: skip
            results["dashboard_central"] = timed("site dashboard (data manager, all sites)",
                                                 lambda: analytics.dashboard(session, central))  # fmt: skip
            results["primary"] = timed("main outcome analysis (transmission, stratified)",
                                       lambda: analytics.analyse(session, central, "transmission-at-amniocentesis"))  # fmt: skip
            timed("composite outcome (informational, not budgeted)",
                  lambda: analytics.analyse(session, central, "termination-or-infection-at-birth"))  # fmt: skip
            overall = analytics.analyse(session, central, "transmission-at-amniocentesis")[
                "overall"
            ]
            print(f"  → table {overall['table']}, OR {overall['odds_ratio']:.2f} "
                  f"(95% CI {overall['ci95'][0]:.2f}–{overall['ci95'][1]:.2f}, {overall['ci_method']})")  # fmt: skip
        return 0 if all(v < BUDGET_MS for v in results.values()) else 1
    finally:
        registry.dispose()
        if not args.keep:
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
