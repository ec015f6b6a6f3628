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


def test_no_request_waits_for_the_thread_pool() -> None:
    """Every route and every dependency it declares is a coroutine: FastAPI runs a plain
    `def` on its thread pool, a hop (and a lock) per request on the hot path."""
    import inspect

    from fastapi.routing import APIRoute

    from stockline.app import create_app
    from stockline.config import Settings

    app = create_app(Settings(env="test", secret_key="architecture-test-secret-key-long-enough"))

    def sync_calls(dependant, path: str) -> list[str]:
        found = []
        call = dependant.call
        if call is not None:
            target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
            if not inspect.iscoroutinefunction(target):
                found.append(f"{path}: {getattr(call, '__qualname__', call)}")
        for sub in dependant.dependencies:
            found += sync_calls(sub, path)
        return found

    def api_routes(routes) -> list[APIRoute]:  # through included routers, at any depth
        found = []
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):
                found += api_routes(route.original_router.routes)
            elif hasattr(route, "routes"):
                found += api_routes(route.routes)
        return found

    routes = api_routes(app.routes)
    assert len(routes) > 100
    offenders = [name for route in routes for name in sync_calls(route.dependant, route.path)]
    assert offenders == []
