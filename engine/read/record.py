"""A deal record from a dict of plain values, by a converter generated per pack (``RuleSet.record``).

Callers that hold dicts (a webhook, a notebook) build records through ``RuleSet.record``.
Checking each key and calling ``coerce`` per field cost four times the scoring, so, like the
CSV row converter (engine.read.csv.compile_row), this writes straight-line Python once, in
two tiers:

- ``record``, the everyday case: a plain dict holding every field (as a CSV row or a CRM
  export turned into dicts does) and no other key. Every value is fetched in one C call
  (``operator.itemgetter``), then per field: for text ``STRIP(t) or default``, for other
  types one subscript of a memo of texts already read, seeded with the blank ('' and None ->
  the default). A memo miss calls the field's ``miss`` function (conversion, remembered; a
  native through ``coerce``). The record is made as ``engine.read.csv.deal_lines`` says
  (cheaper than a dict literal of twenty fields). Anything else — an absent key, a value
  that is not a str in a text field, an unhashable value — raises KeyError or TypeError, and
- ``per_field`` takes the dict, checking each value's type (absent keys are blanks);
- anything wrong (an unknown key, a blank required field, an unreadable value) is handed to
  the reference function, ``record_values``, which raises the error naming the field:
  converters are pure, so it fails where the fast ones did.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .. import types as T
from ..values import ValueProblem, coerce, is_blank, text_converter
from . import cells
from .csv import deal_lines, memo_of_texts


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
    """``record(values)``, generated for these fields; returns it and its source (both tiers)."""
    readable = [(name, field) for name, field in fields.items() if field.compute is None]
    namespace: dict = {
        "KNOWN": frozenset(fields),
        "COUNT": len(readable),
        "DICT": dict,
        "STR": str,
        "STRIP": str.strip,
        "FETCH": _fetch([name for name, _ in readable]),
        "ValueProblem": ValueProblem,
        "coerce": coerce,
        "IS_BLANK": is_blank,
        "STAGES": stages,
        "reference": lambda values: record_values(fields, defaults, stages, values),
    }
    fast = [
        "def record(values):",
        "    if type(values) is not DICT or len(values) != COUNT:",
        "        return per_field(values)",
        "    try:",
        "        (" + "".join(f"t{k}, " for k in range(len(readable))) + ") = FETCH(values)",
    ]
    slow = [
        "def per_field(values):",
        "    if not KNOWN.issuperset(values):",
        "        return reference(values)  # raises: an unknown field",
        "    get = values.get",
        "    try:",
    ]
    stores, items = [], []  # (name, variable) for the fast tier's deal; the per-field tier's dict items
    slots: list[cells.Slot] = []  # the fast tier's steps for the C loop (engine.read.cells)
    for k, (name, field) in enumerate(readable):
        default = defaults.get(name)
        required = field.required and default is None
        namespace[f"d{k}"] = default
        namespace[f"r{k}"] = _raiser(f"missing required field '{name}'")
        blank = f"r{k}()" if required else f"d{k}"
        convert = text_converter(field.type, stages=stages, **field.reading())
        memo: dict | None = None
        if field.type not in (T.STRING, T.LIST):  # a list is mutable: each record gets its own
            memo, convert = memo_of_texts(convert, default, required)
            namespace[f"m{k}"], namespace[f"c{k}"] = memo, convert
        else:
            namespace[f"c{k}"] = convert
        namespace[f"x{k}"] = _miss(field, default, required, convert, stages)
        if field.type == T.STRING:
            fast.append(f"        v{k} = STRIP(t{k}) or {blank}")
            slots.append((name, name, cells.STRIP, None, None, default, namespace[f"r{k}"] if required else None))
        elif memo is None:
            fast.append(f"        v{k} = x{k}(t{k})")
            slots.append((name, name, cells.CALL, None, namespace[f"x{k}"], default, None))
        else:
            slots.append((name, name, cells.MEMO, memo, namespace[f"x{k}"], default, None))
            fast += [
                "        try:",
                f"            v{k} = m{k}[t{k}]",
                "        except KeyError:",
                f"            v{k} = x{k}(t{k})",
            ]
        stores.append((name, f"v{k}"))
        slow += _per_field_lines(k, name, field, memo is not None, blank)
        items.append(f"{name!r}: v{k}")
    fast += [
        "    except (KeyError, TypeError):",
        "        return per_field(values)  # an absent key, a value not text, an unhashable value",
        "    except ValueProblem:",
        "        return reference(values)  # raises, naming the field",
        *deal_lines(stores, namespace),
    ]
    slow += [
        "        return {" + ", ".join(items) + "}",
        "    except ValueProblem:",
        "        pass",
        "    return reference(values)  # raises, naming the field",
    ]
    source = "\n".join(fast) + "\n\n\n" + "\n".join(slow) + "\n"
    exec(compile(source, "<dealgate record converter>", "exec"), namespace)  # repr'd names only
    fast_in_c = cells.converter(
        [(name, None) for name, _ in readable],
        slots,
        by_key=True,
        fallback=namespace["per_field"],
        catch=(((KeyError, TypeError), namespace["per_field"]), (ValueProblem, namespace["reference"])),
    )
    return fast_in_c or namespace["record"], source


def _per_field_lines(k: int, name: str, field, memoized: bool, blank: str) -> list[str]:
    """``per_field``'s lines for one field: any value, checked by type; an absent key is a blank."""
    native = (
        f"coerce({field.type!r}, v, formats={field.formats!r}, separator={field.separator!r}, "
        f"currency={field.currency!r}, decimal_mark={field.decimal_mark!r}, stages=STAGES)"
    )
    lines = [f"        v = get({name!r})", "        if type(v) is STR:"]
    if field.type == T.STRING:
        lines.append(f"            v{k} = v.strip() or {blank}")
    elif memoized:
        lines += [
            f"            v{k} = m{k}.get(v)",
            f"            if v{k} is None:",
            f"                v{k} = c{k}(v) if v and not v.isspace() else {blank}",
        ]
    else:
        lines.append(f"            v{k} = c{k}(v) if v and not v.isspace() else {blank}")
    # A blank str subclass too is a blank (is_blank, as record_values): coerce would make it None, required or not.
    lines += [
        "        elif IS_BLANK(v):",
        f"            v{k} = {blank}",
        "        else:",
        f"            v{k} = {native}",
    ]
    return lines


def _miss(field, default, required: bool, convert: Callable[[str], Any], stages) -> Callable[[Any], Any]:
    """The value of one field from anything the fast tier's memo did not know (or for a list, anything).

    Text is converted (and remembered, by ``convert``), a blank or None takes the default or
    raises, a native goes through ``coerce``. Raises ValueProblem without the field's name:
    the reference function then raises the message naming it.
    """
    type_, reading = field.type, field.reading()

    def miss(value):
        if type(value) is str:
            if value and not value.isspace():
                return convert(value)
        elif not is_blank(value):  # None, or a blank str subclass (numpy.str_): a blank as record_values says
            return coerce(type_, value, stages=stages, **reading)
        if required:
            raise ValueProblem("missing required field")
        return default

    return miss


def _fetch(names: list) -> Callable[[dict], tuple]:
    """The values of ``names`` in a dict, as a tuple, in one C call (KeyError if one is absent)."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    return lambda values: tuple(values[name] for name in names)  # itemgetter of one name gives no tuple


def _raiser(message: str) -> Callable[[], Any]:
    def blank():
        raise ValueProblem(message)

    return blank
