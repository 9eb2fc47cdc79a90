"""A non-editable install must carry every package: pyproject lists them one by one."""

from pathlib import Path

import pytest
import tomllib

from conftest import ROOT


def test_every_engine_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "engine").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "engine.schemas" in listed  # the JSON Schemas travel inside the package


def test_schemas_are_found_by_the_checker():
    from engine.check import schema_dir

    assert {p.name for p in schema_dir().iterdir() if p.name.endswith(".schema.json")} == {
        "fields.schema.json",
        "pipeline.schema.json",
        "plan.schema.json",
        "tests.schema.json",
        "segments.schema.json",
        "reps.schema.json",
    }


def test_the_docs_and_the_default_pack_travel_inside_the_package():
    """`dealgate rule` reads docs/diagnostics.md and `dealgate init` the bundled pack after a plain install."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["engine.docs"] == "docs" and config["package-dir"]["engine.default_pack"] == "rules"
    assert {"engine.docs", "engine.default_pack"} <= set(config["packages"])
    data = config["package-data"]
    assert data["engine.docs"] == ["*.md"]
    assert sorted(data["engine.default_pack"]) == ["*.yaml", "plans/*.yaml", "tests/*.yaml"]
    assert {p.parent.name for p in (ROOT / "rules").rglob("*.yaml")} <= {"rules", "plans", "tests"}


def test_the_c_loop_is_built_where_it_can_be():
    """setup.py builds engine/read/_cells.c when it can and goes on silently when it cannot: on a
    machine with a C compiler and Python's headers, a missing extension is a lost speed-up, not a choice."""
    import shutil
    import sysconfig

    from engine.read import cells

    compiler = shutil.which(sysconfig.get_config_var("CC").split()[0] if sysconfig.get_config_var("CC") else "cc")
    headers = Path(sysconfig.get_paths()["include"], "Python.h").is_file()
    if not (compiler and headers):
        pytest.skip("no C compiler or no Python headers here: dealgate reads with its generated Python alone")
    assert cells._cells is not None, "engine.read._cells is not built: `pip install -e .` builds it"
    assert "engine/read/_cells.c" in (ROOT / "setup.py").read_text()
