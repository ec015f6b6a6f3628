"""The data invariants `stockline check` verifies; each is one query in invariants.sql
that returns the rows breaking it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from stockline.sqlfile import queries_beside

QUERIES = queries_beside(__file__, "invariants.sql")


@dataclass(frozen=True)
class InvariantResult:
    name: str
    description: str
    offenders: list[dict[str, Any]]

    @property
    def holds(self) -> bool:
        return not self.offenders


def check_invariants(conn: psycopg.Connection) -> list[InvariantResult]:
    """Run every invariant in one repeatable-read snapshot, so concurrent writes cannot
    make a consistent database look broken."""
    results = []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for query in QUERIES.values():
            cur.execute(query.sql)
            results.append(InvariantResult(query.name, query.description, cur.fetchall()))
    return results
