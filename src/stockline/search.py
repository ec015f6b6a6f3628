"""Free-text search terms as SQL ILIKE patterns, for the lists searched term by term across
several columns: the catalog (GET /api/products, the back office's products and SKUs) and the
inventory view. Their queries require every term to match some column. The customer and user
lists match the whole phrase instead (`customers.service.contains_pattern`)."""

from __future__ import annotations

MAX_SEARCH_TERMS = 8


def search_patterns(search: str | None) -> list[str]:
    """One `%term%` pattern per whitespace-separated term (at most MAX_SEARCH_TERMS); `%`, `_`
    and `\\` in a term are literal. Queries require every pattern to match some column. A NUL
    separates terms too: no column holds one (PostgreSQL text can not), and psycopg refuses to
    send one (the pages' searches were a 500; the API refuses it first, 422)."""
    terms = (search or "").replace("\x00", " ").split()[:MAX_SEARCH_TERMS]
    escaped = (t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for t in terms)
    return [f"%{term}%" for term in escaped]
