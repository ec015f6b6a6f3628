"""Query parameters of the traceability route."""

from __future__ import annotations

from enum import StrEnum


class TraceFormat(StrEnum):
    json = "json"
    csv = "csv"
