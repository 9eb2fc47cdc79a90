"""Stage 2, check: each document against the JSON Schema of its kind.

jsonschema finds the problems; this module says them in plain English and
points each one at the file:line:column of the offending node (for an unknown
key, at the key itself) with a did-you-mean hint where one helps.
"""

from __future__ import annotations

import difflib
import json
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import cast

import jsonschema

from .diagnostics import Diagnostic, did_you_mean, error
from .load import Document

_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true/false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "empty",
}


def schema_dir():
    """Where the JSON Schemas are: beside the package in a checkout, inside it when installed.

    Installed, ``engine.schemas`` is a namespace package (no __init__.py), so this is an
    importlib Traversable rather than a Path: use ``/`` and ``read_text``, not ``str()``.
    """
    here = Path(__file__).resolve().parent.parent / "schemas"
    if (here / "fields.schema.json").is_file():
        return here
    return resources.files("engine.schemas")


@cache
def load_schema(kind: str) -> dict:
    return json.loads((schema_dir() / f"{kind}.schema.json").read_text(encoding="utf-8"))


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = load_schema(kind)
    # Decimal is how the loader keeps YAML numbers exact; the default checker already accepts it
    # as a number, and bool is excluded from "number" and "integer" as JSON requires.
    return _EcmaPatternValidator(schema)


def _ecma_pattern(validator, pattern: str, instance, schema):
    r"""JSON Schema's "pattern" with ECMA-262's '$': the end of the text only.

    jsonschema uses Python's re.search, where '$' also matches before a final newline, so
    'discovery\n' would pass '^[a-z_][a-z0-9_]*$' and reach generated code. A '$' that ends
    the pattern is read as '\Z' (the schemas stay valid ECMA for editors).
    """
    if not isinstance(instance, str):
        return
    python_pattern = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
    if re.search(python_pattern, instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_EcmaPatternValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


def validator_for(kind: str) -> jsonschema.Draft202012Validator:
    return _validator(kind)


def check_document(document: Document) -> list[Diagnostic]:
    """All schema problems of one document, most specific first.

    A misspelt required key is one mistake: it is reported as the unknown key (with the right
    name as the hint), not also as the required key that is missing.
    """
    validator = _validator(document.kind)
    errors = list(validator.iter_errors(document.data))
    explained = {
        (tuple(err.absolute_path), wanted)
        for err in errors
        if err.validator == "additionalProperties"
        for wanted in misspelt_required(err).values()
    }
    problems = []
    for err in errors:
        if err.validator == "required" and (tuple(err.absolute_path), _missing_key(err)) in explained:
            continue
        problems.extend(_explain(err, document))
    return problems


def _schema_of(err: jsonschema.ValidationError) -> dict:
    """The (sub)schema an error is about: always a mapping in dealgate's schemas (never `true`/`false`)."""
    return cast(dict, err.schema)


def misspelt_required(err: jsonschema.ValidationError) -> dict:
    """For an unknown-keys error: {unknown key: the required key it misspells}, when one is missing and close."""
    instance = err.instance if isinstance(err.instance, dict) else {}
    schema = _schema_of(err)
    allowed = set(schema.get("properties", {}))
    missing = [key for key in schema.get("required", ()) if key not in instance]
    fixes: dict = {}
    for key in sorted(set(instance) - allowed):
        match = difflib.get_close_matches(key.lower(), [m for m in missing if m not in fixes.values()], n=1, cutoff=0.6)
        if match:
            fixes[key] = match[0]
    return fixes


def _wrong_level(key: str, path: tuple, document: Document) -> str | None:
    """A key that is right one level up or down (an indentation slip): say where it belongs."""
    here = _generic(path)
    depth = lambda p: sum(part != "*" for part in p)  # noqa: E731 - mapping levels, list items aside
    homes = [
        home
        for home in _key_homes(document.kind).get(key, ())
        if home != here
        and abs(depth(home) - depth(here)) == 1
        and (home[: len(here)] == here or here[: len(home)] == home)
    ]
    if not homes:
        return None
    shown = "".join("[]" if part == "*" else f".{part}" for part in homes[0]).lstrip(".") or "the document"
    return f"'{key}' is a key of {shown}: check its indentation"


def _generic(path: tuple) -> tuple:
    """A path with list indexes replaced by '*', as the schema sees it."""
    return tuple("*" if isinstance(part, int) else part for part in path)


@cache
def _key_homes(kind: str) -> dict:
    """Every key the schema of ``kind`` allows, and the generic paths of the mappings that allow it."""
    schema = load_schema(kind)
    homes: dict = {}

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    def walk(node, path, depth=0):
        node = resolve(node)
        if not isinstance(node, dict) or depth > 8:
            return
        for key, child in node.get("properties", {}).items():
            homes.setdefault(key, []).append(path)
            walk(child, path + (key,), depth + 1)
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + ("*",), depth + 1)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], path + ("*",), depth + 1)

    walk(schema, ())
    return homes


def _missing_key(err: jsonschema.ValidationError) -> str:
    return err.message.split("'")[1] if "'" in err.message else str(err.message)


def check_documents(documents) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for document in documents:
        diagnostics.extend(check_document(document))
    return diagnostics


def _where(path) -> str:
    """A readable name for a position in the document: 'stages[2].exit[0]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the document"


def _quoted(text: str) -> str:
    """'text' for a message: control characters (a newline in an id) are shown escaped."""
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        text = text.encode("unicode_escape").decode("ascii")
    return f"'{text}'"


def _show(value) -> str:
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "empty"
    if isinstance(value, (int, Decimal)):
        return str(value)
    return "a list" if isinstance(value, list) else "a mapping"


_IDENTIFIER_PATTERNS = ("^[a-z_][a-z0-9_]*$", "^[a-z_][a-z0-9_-]*$")
_IDENTIFIER_HINT = "use lower_snake_case: letters, digits and '_', starting with a letter"


def _alternatives(words: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _one_of(branches: list, instance, where: str, at, locate_key=None) -> Diagnostic:
    """Exactly one group of keys must be given (a single 'deal', or 'deals' with 'period')."""
    groups = [branch["required"] for branch in branches]
    given = set(instance) if isinstance(instance, dict) else set()
    complete = [g for g in groups if set(g) <= given]
    show = lambda group: " with ".join(repr(k) for k in group)  # noqa: E731
    if len(complete) > 1:
        # At the second of the keys that exclude each other: the first may well be the one meant.
        second = locate_key(complete[1][0]) if locate_key else at
        return error("DG106", f"{where} has both {' and '.join(show(g) for g in complete)}; give only one", second)
    started = [g for g in groups if set(g) & given]
    if len(started) == 1:
        missing = [k for k in started[0] if k not in given]
        return error(
            "DG106", f"{where} has {show([k for k in started[0] if k in given])} but is missing {show(missing)}", at
        )
    return error("DG106", f"{where} needs {_alternatives([show(g) for g in groups])}", at)


def _explain(err: jsonschema.ValidationError, document: Document) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    where = _where(path)
    at = document.locate(path)
    if err.instance is None and path and not isinstance(path[-1], int):
        at = document.locate_key(path)  # 'key:' with nothing after it: the key is the only token to show
    validator, schema = err.validator, _schema_of(err)

    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extras = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        fixes = misspelt_required(err)
        return [
            error(
                "DG101",
                f"unknown key '{key}' in {where}",
                document.locate_key(path + (key,)),
                (f"did you mean '{fixes[key]}'?" if key in fixes else did_you_mean(key, allowed))
                or _wrong_level(key, path, document)
                or (f"allowed keys: {', '.join(allowed)}" if allowed else None),
            )
            for key in extras
        ]
    if validator == "required":
        missing = _missing_key(err)
        return [error("DG102", f"{where} is missing the required key '{missing}'", at)]
    if validator == "type":
        expected = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        wanted = _alternatives([_TYPE_NAMES.get(t, str(t)) for t in expected])
        hint = None
        if isinstance(err.instance, str) and "number" in expected:
            hint = "write numbers without quotes, units or thousands separators (250000, 0.1)"
        return [error("DG103", f"{where} must be {wanted}, not {_show(err.instance)}", at, hint)]
    if validator in ("enum", "const"):
        options = schema.get("enum") or [schema.get("const")]
        hint = did_you_mean(str(err.instance), [str(o) for o in options]) if isinstance(err.instance, str) else None
        return [
            error(
                "DG104", f"{where} is {_show(err.instance)}; expected one of: {', '.join(map(str, options))}", at, hint
            )
        ]
    if validator == "pattern" and "propertyNames" in err.absolute_schema_path:
        # jsonschema reports a bad key as a pattern error on the parent mapping: point at the key itself.
        key = str(err.instance)  # a mapping key: always a string
        return [
            error(
                "DG105",
                f"{_quoted(key)} is not a valid name in {where}",
                document.locate_key(path + (key,)),
                _IDENTIFIER_HINT,
            )
        ]
    if validator == "pattern" and err.validator_value in _IDENTIFIER_PATTERNS:
        return [error("DG105", f"{where} {_show(err.instance)} is not a valid identifier", at, _IDENTIFIER_HINT)]
    if validator == "pattern":
        return [
            error("DG105", f"{where} {_show(err.instance)} is not in the expected form", at, schema.get("description"))
        ]
    if validator == "oneOf" and all(set(branch) == {"required"} for branch in schema["oneOf"]):
        return [_one_of(schema["oneOf"], err.instance, where, at, lambda key: document.locate_key(path + (key,)))]
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }[validator]
        return [error("DG107", f"{where} must be {bound} {err.validator_value}, not {_show(err.instance)}", at)]
    if validator in ("minItems", "minProperties"):
        return [error("DG107", f"{where} must not be empty", at)]
    if validator == "minLength":
        return [error("DG107", f"{where} must not be an empty string", at)]
    return [error("DG199", f"{where}: {err.message}", at)]
