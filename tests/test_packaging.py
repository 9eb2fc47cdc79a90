"""A non-editable install must carry every package: pyproject lists them one by one."""

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
        "fields.schema.json", "pipeline.schema.json", "plan.schema.json", "tests.schema.json"}
