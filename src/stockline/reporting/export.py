"""How a report's rows leave the building: the column machinery (JSON items and CSV from one
column list, formula-injection safe) is stockline.kernel.export, shared with billing's
exports; this module keeps its name for reporting."""

from __future__ import annotations

from stockline.kernel.export import (
    FORMULA_PREFIXES,
    Column,
    Kind,
    attachment,
    cell,
    csv_cell,
    csv_text,
    item,
    safe_text,
)

__all__ = ["FORMULA_PREFIXES", "Column", "Kind", "attachment", "cell", "csv_cell", "csv_text", "item",
           "safe_text"]
