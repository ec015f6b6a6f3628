"""The paginated envelope every list shares (the catalog's shape): items, total_items,
total_pages, current_page, page_size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    limit: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def envelope(self, items: list[Any], total_items: int, **extra: Any) -> dict[str, Any]:
        return {"items": items, "total_items": total_items,
                "total_pages": math.ceil(total_items / self.limit), "current_page": self.page,
                "page_size": self.limit, **extra}


async def _page_request(page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                  limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20) -> PageRequest:
    return PageRequest(page, limit)


Paging = Annotated[PageRequest, Depends(_page_request)]
