"""The package's layout keeps its promises (docs/ARCHITECTURE.md).

* the layers contract of ``pyproject.toml`` holds (import-linter);
* no two modules import each other, directly or round a longer loop;
* no module is over 600 lines;
* code and docs cite only files inside the repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx
import pytest

import sim

PACKAGE = Path(sim.__file__).resolve().parent
REPO = PACKAGE.parent


def test_the_layers_contract_holds():
    lint = Path(sys.executable).with_name("lint-imports")
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("needs the source tree's pyproject.toml (the contract lives there)")
    done = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_module_imports_itself_round_a_loop():
    graph = grimp.build_graph("sim")
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            # a package's __init__ re-exporting its own modules is not a loop between modules
            if not imported.startswith(module + ".") and not module.startswith(imported + "."):
                edges.add_edge(module, imported)
    loops = list(nx.simple_cycles(edges))
    assert loops == [], f"import loops: {loops[:5]}"


def test_a_layer_violation_would_be_caught(tmp_path):
    """The contract is not vacuous: a model module importing the engine breaks it."""
    graph = grimp.build_graph("sim")
    assert graph.chain_exists(importer="sim.cli.run", imported="sim.model.model")
    assert not graph.chain_exists(importer="sim.model.model", imported="sim.engine.engine")
    assert not graph.chain_exists(importer="sim.engine.engine", imported="sim.reporting.plots")


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(REPO)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


OUTSIDE = re.compile(r"DESIGN §|\.\./shared|DESIGN\.md")


def test_code_and_docs_cite_only_files_in_the_repository():
    files = [*PACKAGE.rglob("*.py"), *REPO.glob("docs/*.md"), REPO / "README.md"]
    cited = [f"{p.relative_to(REPO)}:{i}" for p in files if p.is_file()
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if OUTSIDE.search(line)]
    assert cited == []


def test_old_module_names_still_import_with_a_warning_naming_the_new_home():
    """Shims for one release: ``sim.agents`` is ``sim.model.actors``, with a DeprecationWarning."""
    import importlib
    import sys as _sys

    from sim._compat import MOVED
    for old, new in MOVED.items():
        _sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
            module = importlib.import_module(old)
        assert module is importlib.import_module(new), old
    assert callable(sim.compare) and callable(sim.run)  # the functions, not the old modules


def test_no_call_passes_more_than_8_positional_arguments():
    """Kernels take their many parameters by keyword, so a swapped pair cannot pass silently."""
    import ast
    crowded = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and len(node.args) > 8:
                crowded.append(f"{path.relative_to(REPO)}:{node.lineno} {ast.unparse(node.func)}")
    assert crowded == []
