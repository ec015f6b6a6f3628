"""Argument helpers shared by every `stockline` command module."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def whole_number(minimum: int = 0, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an int within [minimum, maximum], with a clear message otherwise."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value

    return parse


def add_command(commands: Any, name: str, handler: Callable[[argparse.Namespace], int], help_text: str,
                example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with a worked example."""
    parser = commands.add_parser(name, help=help_text, description=f"{help_text}\n\nexample:\n  {example}",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
    return parser
