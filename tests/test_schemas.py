"""The JSON Schemas are what editors show: every property must say what it is for."""

import json

import jsonschema
import pytest

from conftest import ROOT

SCHEMAS = sorted((ROOT / "schemas").glob("*.schema.json"))


def properties(node, path="#"):
    """Every (path, schema) of a named property, recursively through the whole schema."""
    if isinstance(node, dict):
        for name, child in node.get("properties", {}).items():
            yield f"{path}/properties/{name}", child
        for key, child in node.items():
            yield from properties(child, f"{path}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from properties(child, f"{path}/{i}")


@pytest.mark.parametrize("path", SCHEMAS, ids=[p.name for p in SCHEMAS])
def test_schema_is_valid_2020_12_and_every_property_is_described(path):
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    undescribed = []
    for where, child in properties(schema):
        target = child
        if "$ref" in child and "description" not in child:
            target = schema["$defs"][child["$ref"].split("/")[-1]]
        if not target.get("description"):
            undescribed.append(where)
    assert not undescribed, f"properties without a description: {undescribed}"


def test_one_schema_per_document_kind():
    from engine.load import KINDS

    assert {p.name for p in SCHEMAS} == {f"{kind}.schema.json" for kind in KINDS}
