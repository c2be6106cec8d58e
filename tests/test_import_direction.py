"""The import direction between the apps: each app imports only the apps below it, never one above.

Lowest first: grids ← partners ← routing ← dispatch ← hotline ← maps (maps may read all). Every .py
file of an app is read with `ast`, its tests and migrations included, and every import counts,
the ones inside functions too: an import moved into a function to dodge a cycle still points the
wrong way. `config` and `tests` stand outside the order; an app that does not exist (yet) is left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["grids", "partners", "routing", "dispatch", "hotline", "maps"]
APPS = [app for app in ORDER if (ROOT / app / "__init__.py").exists()]


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) for each absolute import in the source, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upward_imports(app: str) -> list[str]:
    """Each import in `app` of an app above it, as `path:line imports module (app may import ...)`."""
    rank = ORDER.index(app)
    allowed = ", ".join(ORDER[:rank]) or "no other app"
    problems = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for line, module in imported_modules(path.read_text(encoding="utf-8")):
            top = module.partition(".")[0]
            if top in APPS and ORDER.index(top) > rank:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({app} may import {allowed})")
    return problems


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_no_app_above_it(app):
    problems = upward_imports(app)
    assert problems == [], "\n".join(problems)


def test_imports_inside_functions_and_from_imports_are_seen():
    source = "import grids.models\n\ndef f():\n    from hotline import services\n    import maps.api as m\n"
    assert imported_modules(source) == [(1, "grids.models"), (4, "hotline"), (5, "maps.api")]


def test_relative_imports_stay_inside_their_app():
    assert imported_modules("from . import models\nfrom .models import Case\n") == []
