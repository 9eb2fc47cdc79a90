"""The library's layering, checked from the source: load -> check -> model -> semantics -> compile ->
evaluate -> render, and no click anywhere in engine/.

Each module or package of engine/ has a layer (the most specific entry of LAYERS wins: engine.expr.ir
before engine.expr); a module may import from its own layer and the ones below it, never from a higher
one. Every import counts, including those inside functions. Entries for modules that do not exist
(yet) are harmless; a module with no entry fails the test, so that a new module is placed on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"

LAYERS = {
    # foundations: no dealgate imports beyond each other
    "engine": 0,  # the package itself (empty)
    "engine.diagnostics": 0,
    "engine.types": 0,
    "engine.money": 0,
    "engine.output": 0,
    "engine.values": 0,
    "engine.results": 0,
    "engine.generated": 0,  # generated modules registered in linecache, with their line -> rule map
    "engine.codes": 0,  # the documentation of each diagnostic code, read from docs/
    "engine.config": 0,  # dealgate.toml / [tool.dealgate]: read and checked; the CLI applies it
    "engine.progress": 0,  # counters a run advances for a progress display: stdlib only
    "engine.synthetic": 0,  # the example-data generator: stdlib only
    "engine.scaffold": 2,  # dealgate init: the bundled pack, its schemas and a sample export, written out
    # inputs: rule files, and exports (reading an export needs only values, types and output)
    "engine.load": 1,
    "engine.yaml_errors": 1,  # PyYAML's errors in the author's words, for load
    "engine.read": 1,
    "engine.check": 2,
    "engine.salvage": 2,  # the schema-valid part of a document that fails its schema
    "engine.suppress": 2,  # ignore comments in the rule files and the configuration's ignore/select
    "engine.model": 3,
    # the expression language (parse, type check, IR, interpreter, code generation): semantics uses it
    "engine.expr": 4,
    "engine.semantics": 5,
    # backends: a checked pack made runnable
    "engine.compile": 6,
    "engine.sql": 6,
    "engine.pack": 7,  # load -> check -> model -> semantics -> compile in one call
    # evaluate: what the compiled rules say about deals, reps and test cases
    "engine.score": 8,
    "engine.payout": 8,
    "engine.payout.spill": 8,  # credits by rep on disk between crediting and statements (bounded memory)
    "engine.explain": 8,
    "engine.diff": 8,
    "engine.testing": 8,
    "engine.segments": 8,  # account tiers: accounts (and their deals) classified
    "engine.segments.model": 3,  # the segments document's model, beside engine.model
    "engine.segments.compile": 6,  # the tiers compiled to one generated function
    "engine.forecast": 8,  # forecast, movement and calibration: computed on scored deals (engine.score)
    "engine.sql.duckdb_engine": 8,  # the DuckDB runner evaluates: it yields scored deals like score does
    "engine.sql.spark_engine": 8,  # the Spark runner, beside the DuckDB one
    "engine.sql.crediting": 8,  # credited rows handed to engine.payout
    "engine.sql.duckdb_credit": 8,  # payouts on DuckDB
    "engine.sql.spark_credit": 8,  # payouts on Spark
    "engine.sql.records": 8,  # typed records (test cases) on DuckDB or Spark
    "engine.ledger": 8,  # the SQLite ledger of statements, locks, adjustments and payments (uses payout)
    "engine.report": 8,  # dealgate report's model: the analyses of one export gathered (score, forecast, payout)
    "engine.render": 9,
    "engine.parts": 9,  # a large CSV export scored in parts on several processes: reads, scores and renders
    "engine.ledger.report": 9,  # the ledger rendered for people and programs
    "engine.render.report_html": 9,  # the report as one self-contained HTML page (plotly.js charts)
    "engine.render.report_assets": 9,  # the page's inline style sheet and script
    "engine.sql.lines": 9,  # scored rows rendered by the SQL engine: a renderer, beside engine.render
}


def module_name(path: Path, root: Path = ENGINE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def engine_sources(root: Path = ENGINE) -> dict[str, tuple[str, bool]]:
    """module name -> (source, is a package)."""
    return {
        module_name(p, root): (p.read_text(encoding="utf-8"), p.name == "__init__.py")
        for p in sorted(root.rglob("*.py"))
    }


def imports(name: str, source: str, is_package: bool, known: set) -> list[tuple[int, str]]:
    """(line, imported module) for every import in a module, relative ones resolved.

    ``from X import y`` counts as importing X.y when that is a module, else X.
    """
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if full in known else base))
    return found


def layer_of(module: str, layers: dict) -> int | None:
    """The layer of the most specific entry naming the module or a package containing it."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in layers and (key != "engine" or module == "engine"):
            return layers[key]
    return None


def problems(sources: dict[str, tuple[str, bool]], layers: dict = LAYERS) -> list[str]:
    """Every click import, unplaced module and upward import, as 'module:line: what'."""
    known = set(sources)
    found = []
    for name, (source, is_package) in sorted(sources.items()):
        own = layer_of(name, layers)
        if own is None:
            found.append(f"{name}: no layer (add it to LAYERS)")
            continue
        for line, target in imports(name, source, is_package, known):
            if target.split(".")[0] == "click":
                found.append(f"{name}:{line}: imports click (the library never does; cli.py does)")
            if not target.startswith("engine"):
                continue
            theirs = layer_of(target, layers)
            if theirs is not None and theirs > own:
                found.append(f"{name}:{line}: layer {own} imports {target} of layer {theirs}")
    return found


def test_engine_keeps_its_layers_and_never_imports_click():
    sources = engine_sources()
    assert "engine.compile" in sources and "engine.render.deals" in sources  # the walk found the library
    assert problems(sources) == []


def test_the_checker_catches_an_upward_import():
    sources = engine_sources()
    sources["engine.money"] = ("from engine.render import deals\n", False)
    sources["engine.values"] = ("def f():\n    from .score import ScoreRun\n", False)
    sources["engine.expr.codegen"] = ("from ..compile import RuleSet\n", False)
    assert problems(sources) == [
        "engine.expr.codegen:1: layer 4 imports engine.compile of layer 6",
        "engine.money:1: layer 0 imports engine.render.deals of layer 9",
        "engine.values:2: layer 0 imports engine.score of layer 8",
    ]


def test_the_checker_catches_click_and_unplaced_modules():
    sources = {
        "engine.read.csv": ("import click\n", False),
        "engine.newthing": ("", False),
        "engine.sql.duckdb": ("from click import echo\nfrom ..compile import RuleSet\n", False),
    }
    assert problems(sources) == [
        "engine.newthing: no layer (add it to LAYERS)",
        "engine.read.csv:1: imports click (the library never does; cli.py does)",
        "engine.sql.duckdb:1: imports click (the library never does; cli.py does)",
    ]


def test_relative_imports_resolve_to_modules_and_packages():
    known = {"engine.types", "engine.expr", "engine.expr.parse", "engine.read", "engine.read.csv"}
    source = "from .. import types as T\nfrom . import parse\nfrom .parse import parse as p\nimport engine.read\n"
    assert imports("engine.expr.typecheck", source, False, known) == [
        (1, "engine.types"),
        (2, "engine.expr.parse"),
        (3, "engine.expr.parse"),
        (4, "engine.read"),
    ]
    assert imports("engine.read", "from .csv import Reader\n", True, known) == [(1, "engine.read.csv")]
