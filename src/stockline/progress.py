"""Progress for long work: a bar redrawn in place on a terminal, a few plain lines otherwise
(logs and CI stay readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_BAR_WIDTH = 28
_REDRAW_SECONDS = 0.1


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None, unit: str = "rows") -> None:
        self.label = label
        self.unit = unit
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._quarters_reported = 0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def advance(self, count: int) -> None:
        self.done += count
        if self.interactive:
            now = time.perf_counter()
            if now - self._last_draw >= _REDRAW_SECONDS:
                self._last_draw = now
                self._draw()
        elif self.total and self._quarters_reported < self.done * 4 // self.total < 4:
            self._quarters_reported = self.done * 4 // self.total  # a line at 25, 50 and 75 %
            self.stream.write(f"{self.label}: {self.done:,}/{self.total:,}\n")
            self.stream.flush()

    def _draw(self) -> None:
        share = self.done / self.total if self.total else 1.0
        filled = int(share * _BAR_WIDTH)
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        self.stream.write(f"\r  {self.label:<16} [{bar}] {self.done:>10,}/{self.total:,}"
                          f"  {self.rate():>10,.0f}/s")
        self.stream.flush()

    def finish(self) -> float:
        """Close the line; returns the seconds taken."""
        seconds = self.elapsed
        if self.interactive:
            self._draw()
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label}: {self.done:,} {self.unit} in {seconds:.2f} s\n")
        self.stream.flush()
        return seconds
