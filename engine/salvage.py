"""The well-formed rest of a document that fails its schema.

A schema error used to leave its whole document out of the later checks, so one unknown key in
a stage hid every expression and reference error of the pipeline: three mistakes took three
runs. Here the parts the schema refuses are cut away (an unknown key, the list item or mapping
that holds a bad value, as little as the schema allows) until what is left is valid; the later
checks then see that, with the locations of the original file.

What was cut is remembered as names (keys, and the words of its strings), so that a later check
does not report a reference to something that was only cut ("unknown stage 'meeting'" after a
bad stage was left out) or call a field unused when a cut rule read it.
"""

from __future__ import annotations

import difflib
import re

import attrs

from .check import misspelt_required, validator_for
from .load import Document

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Each round cuts at least one node; a pack document is never nested deeper than this.
_MAX_ROUNDS = 30


@attrs.frozen
class Salvaged:
    document: Document  # valid against its schema
    names: frozenset  # keys and words of the parts cut away


def salvage(document: Document) -> Salvaged | None:
    """The valid part of ``document`` and the names cut from it; None when nothing usable is left."""
    validator = validator_for(document.kind)
    cuts: set[tuple] = set()
    renames: dict[tuple, str] = {}
    for _ in range(_MAX_ROUNDS):
        data, paths = _rebuild(document.data, cuts, renames)
        # Unknown keys first: a misspelt required key is renamed before its mapping is found lacking it.
        errors = sorted(validator.iter_errors(data), key=lambda e: e.validator != "additionalProperties")
        if not errors:
            return Salvaged(_relocated(document, data, paths), frozenset(_names(document.data, cuts)))
        for err in errors:
            for cut in _cuts(err, renames, paths):
                if cut == ():
                    return None
                cuts.add(cut)
    return None


def _cuts(err, renames: dict, paths: dict) -> list[tuple]:
    """The original paths to cut for one schema error (recording the misspelt keys to rename)."""
    path = tuple(err.absolute_path)
    original = paths[path]
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        fixes = misspelt_required(err)
        result = []
        for key in sorted(set(err.instance) - allowed):
            # A misspelt key is read as the key it misspells (when that one is not there too): the rest of
            # the checks then see what was meant, not a missing quota or a stage without a probability.
            meant = fixes.get(key) or _closest(key, sorted(allowed - set(err.instance) - set(fixes.values())))
            if meant:
                renames[original + (key,)] = meant
            else:
                result.append(original + (key,))
        return result
    if err.validator == "oneOf" and isinstance(err.instance, dict):
        # Both 'rate' and 'tiers': keep the first, so the rest of the plan is still checked.
        groups = [branch.get("required", ()) for branch in err.validator_value]
        given = [group for group in groups if group and set(group) <= set(err.instance)]
        if len(given) > 1:
            return [original + (key,) for group in given[1:] for key in group if key not in given[0]]
    if err.validator == "pattern" and "propertyNames" in err.absolute_schema_path:
        return [original + (err.instance,)]
    if err.validator == "required" and any(
        p[: len(original)] == original and len(p) == len(original) + 1 for p in renames
    ):
        return []  # the misspelt key, renamed, supplies it next round
    return [original]


def _closest(key: str, candidates: list) -> str | None:
    match = difflib.get_close_matches(key.lower(), candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def _rebuild(data, cuts: set, renames: dict, path: tuple = (), new_path: tuple = (), paths: dict | None = None):
    """``data`` without the cut paths, keys renamed; and each new path's original path."""
    paths = {} if paths is None else paths
    paths[new_path] = path
    if isinstance(data, dict):
        result = {}
        for key, value in data.items():
            child = path + (key,)
            if child in cuts:
                continue
            new_key = renames.get(child, key)
            if new_key in data and new_key != key:
                continue  # the right key is there too: keep it, drop the misspelt one
            result[new_key] = _rebuild(value, cuts, renames, child, new_path + (new_key,), paths)[0]
        return result, paths
    if isinstance(data, list):
        items: list = []
        for index, value in enumerate(data):
            child = path + (index,)
            if child not in cuts:
                items.append(_rebuild(value, cuts, renames, child, new_path + (len(items),), paths)[0])
        return items, paths
    return data, paths


def _relocated(document: Document, data, paths: dict) -> Document:
    """The document holding ``data``, its locations keyed by the new paths (list items may have moved up)."""

    def move(table: dict) -> dict:
        return {new: table[old] for new, old in paths.items() if old in table}

    return attrs.evolve(
        document,
        data=data,
        value_locations=move(document.value_locations),
        key_locations=move(document.key_locations),
        scalar_styles=move(document.scalar_styles),
        scalar_sources=move(document.scalar_sources),
    )


def _names(data, cuts: set) -> set[str]:
    names: set[str] = set()
    for path in cuts:
        node = data
        try:
            for part in path:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(path[-1], str):
            names.add(path[-1])
        _collect(node, names)
    return names


def _collect(node, names: set) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            names.add(str(key))
            _collect(value, names)
    elif isinstance(node, list):
        for value in node:
            _collect(value, names)
    elif isinstance(node, str):
        names.update(_WORD.findall(node))
