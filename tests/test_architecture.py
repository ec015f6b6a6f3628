"""The import contracts in pyproject.toml ([tool.importlinter]) hold: no cycles between
sibling packages or modules, domains depend downwards, infrastructure knows no domain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def lint_imports(source_root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package under source_root, with the repository's contracts."""
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    script = ("import sys; from importlinter.cli import lint_imports; "
              "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")
    return subprocess.run([sys.executable, "-c", script, str(REPO / "pyproject.toml")], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_import_contracts_hold() -> None:
    result = lint_imports(REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_new_cycle_breaks_the_contracts(tmp_path: Path) -> None:
    """The contracts are not vacuous: the kernel importing a domain (which imports the
    kernel) is reported."""
    shutil.copytree(REPO / "src" / "stockline", tmp_path / "stockline",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    money = tmp_path / "stockline" / "kernel" / "money.py"
    money.write_text(money.read_text() + "\nfrom stockline.pricing import rules  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "stockline.kernel" in result.stdout and "BROKEN" in result.stdout, result.stdout
