"""CDS Hooks JWT ids claimed in shared transactions on PostgreSQL (issue 20, item 5): a replay
anywhere in a batch records none of it, and the group commit refuses only the replayed calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy.exc import IntegrityError

from cmvcds.adapters.api.group_commit import GroupCommit
from cmvcds.adapters.api.store import CaseStore, JtiClaim
from tests.deploy.conftest import pg_url


def test_jti_claims_on_postgresql(pg_database: Callable[[], str]) -> None:
    store = CaseStore(pg_url(pg_database()))
    expires = time.time() + 300
    try:
        store.claim_jtis([JtiClaim("iss", "a", expires), JtiClaim("iss", "b", expires)])
        with pytest.raises(IntegrityError):
            store.claim_jtis([JtiClaim("iss", "c", expires), JtiClaim("iss", "a", expires)])

        async def calls() -> list[bool]:
            claims = GroupCommit(store.claim_jtis)

            async def one(jti: str) -> bool:
                try:
                    await claims.submit(JtiClaim("iss", jti, expires))
                except IntegrityError:
                    return False
                return True

            return await asyncio.gather(*(one(jti) for jti in ["c", "d", "a", "d", "e"]))

        # "c" was not kept by the failed batch; "a" was claimed before; "d" twice: once
        assert asyncio.run(calls()) == [True, True, False, False, True]
    finally:
        store.engine.dispose()
