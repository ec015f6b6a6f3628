"""Free-text search terms as SQL ILIKE patterns (every list with a search box uses this)."""

from __future__ import annotations

MAX_SEARCH_TERMS = 8


def search_patterns(search: str | None) -> list[str]:
    """One `%term%` pattern per whitespace-separated term (at most MAX_SEARCH_TERMS); `%`, `_`
    and `\\` in a term are literal. Queries require every pattern to match some column."""
    terms = (search or "").split()[:MAX_SEARCH_TERMS]
    escaped = (t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for t in terms)
    return [f"%{term}%" for term in escaped]
