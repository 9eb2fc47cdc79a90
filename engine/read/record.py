"""A deal record from a dict of plain values, by a converter generated per pack (``RuleSet.record``).

Callers that hold dicts (a webhook, a notebook) build records through ``RuleSet.record``.
Checking each key and calling ``coerce`` per field cost four times the scoring, so, like the
CSV row converter (engine.read.csv.compile_row), this writes straight-line Python once: per
field one ``get``, a blank test, and for text a memoised converter from ``engine.values``
(JSON/YAML natives go through ``coerce``). Anything wrong (an unknown key, a blank required
field, an unreadable value) is handed to the reference function, ``record_values``, which
raises the error naming the field: converters are pure, so it fails where the fast one did.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import types as T
from ..values import ValueProblem, coerce, is_blank, text_converter
from .csv import _memoized


def record_values(fields: dict, defaults: dict, stages, values: dict) -> dict:
    """The record of ``values`` (field name -> native or text), the plain way; raises ValueProblem."""
    unknown = [key for key in values if key not in fields]
    if unknown:
        raise ValueProblem(f"unknown field '{unknown[0]}'")
    deal = {}
    for name, field in fields.items():
        if field.compute is not None:
            continue
        raw = values.get(name)
        if is_blank(raw):
            default = defaults.get(name)
            if field.required and default is None:  # as the reader does: a default fills a blank
                raise ValueProblem(f"missing required field '{name}'")
            deal[name] = default
            continue
        try:
            deal[name] = coerce(field.type, raw, stages=stages, **field.reading())
        except ValueProblem as problem:
            raise ValueProblem(f"{name}: {problem}") from None
    return deal


def compile_record(fields: dict, defaults: dict, stages) -> tuple[Callable[[dict], dict], str]:
    """``record(values)``, generated for these fields; returns it and its source."""
    namespace: dict = {
        "KNOWN": frozenset(fields),
        "ValueProblem": ValueProblem,
        "coerce": coerce,
        "STR": str,
        "reference": lambda values: record_values(fields, defaults, stages, values),
    }
    lines = [
        "def record(values):",
        "    if not KNOWN.issuperset(values):",
        "        return reference(values)  # raises: an unknown field",
        "    get = values.get",
        "    try:",
    ]
    items = []
    for k, (name, field) in enumerate((n, f) for n, f in fields.items() if f.compute is None):
        default = defaults.get(name)
        namespace[f"d{k}"] = default
        blank = "reference(values)" if field.required and default is None else f"d{k}"
        native = (
            f"coerce({field.type!r}, v, formats={field.formats!r}, separator={field.separator!r}, "
            f"currency={field.currency!r}, decimal_mark={field.decimal_mark!r}, stages=STAGES)"
        )
        lines.append(f"        v = get({name!r})")
        lines.append("        if type(v) is STR:")
        if field.type == T.STRING:
            lines.append(f"            v{k} = v.strip() or {blank}")
        else:
            convert = text_converter(field.type, stages=stages, **field.reading())
            if field.type == T.LIST:  # a list is mutable: each record gets its own
                namespace[f"c{k}"] = convert
                lines.append(f"            v{k} = c{k}(v) if v and not v.isspace() else {blank}")
            else:
                memo: dict = {}
                namespace[f"m{k}"], namespace[f"c{k}"] = memo, _memoized(convert, memo)
                lines.append(f"            v{k} = m{k}.get(v)")
                lines.append(f"            if v{k} is None:")
                lines.append(f"                v{k} = c{k}(v) if v and not v.isspace() else {blank}")
        lines.append("        elif v is None:")
        lines.append(f"            v{k} = {blank}")
        lines.append("        else:")
        lines.append(f"            v{k} = {native}")
        items.append(f"{name!r}: v{k}")
    namespace["STAGES"] = stages
    lines.append("        return {" + ", ".join(items) + "}")
    lines.append("    except ValueProblem:")
    lines.append("        pass")
    lines.append("    return reference(values)  # raises, naming the field")
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<dealgate record converter>", "exec"), namespace)  # repr'd names only
    return namespace["record"], source
