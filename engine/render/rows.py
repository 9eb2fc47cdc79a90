"""Generated row writers: one scored deal as its CSV line or JSON object, straight from the tuples.

``deal_record`` (engine.render.record) builds a 16-key dict per deal; on a million deals that
dict and a generic cell function called 16 times per row cost more than reading and scoring.
Like the export reader's row converters (engine.read.csv.compile_row), this writes
straight-line Python once per pack that reads the ScoredDeal and DealResult tuples and
returns the finished text.

Most columns depend only on the parts of the result a deal shares with many others: stage,
verdict, failed criteria, qualify-out rules, warnings, probability, evidence stage (the parts
the summary counts by). Their text is made once per distinct combination, by the reference
functions of engine.render.record, and looked up per deal. Per deal remain the file name
(also looked up), line, id, name, owner and the two amounts. Anything unusual (a cell that
needs CSV quoting, a missing-fields map) takes the reference path for the whole row, so
the output is byte for byte what the dict-based renderers write; tests/test_render_rows.py
holds the two to each other.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import ROUND_HALF_UP
from operator import itemgetter

from .. import types as T
from ..money import CENT
from ..output import FORMULA_START, csv_writer, safe_cell
from ..score import is_over_staged, missing_by_criterion
from .record import cell, deal_record, dumps

MEMO_LIMIT = 65_536  # distinct texts kept per memo: far more than a pack's combinations of rule outcomes

# stage, verdict, failed, qualify_out, warnings, evidence stage: what the shared text depends on, with
# the probability (told apart by identity: 0.1 and 0.10 are equal Decimals that print differently).
SHAPE = itemgetter(1, 2, 3, 4, 5, 9)
TEXT_FIELDS = (("id", "deal_id", "r[0]"), ("name", "name", "get('name')"), ("owner", "owner", "get('owner')"))


def _quoted_characters() -> str:
    """The characters that make dealgate's CSV writer (engine.output.csv_writer) quote a cell besides the
    delimiter: probed, since the csv module's own choice varies by Python version."""
    found = []
    for code in range(128):
        buffer = io.StringIO()
        csv_writer(buffer).writerow(["a" + chr(code), "b"])
        if buffer.getvalue().startswith('"') and chr(code) != ",":
            found.append(chr(code))
    return "".join(found)


QUOTED = _quoted_characters()


class _Memo(dict):
    """A dict that fills itself: ``memo[key]`` is ``compute(key)``, remembered (bounded).

    For keys whose equal values have equal texts: strings, None.
    """

    def __init__(self, compute: Callable):
        super().__init__()
        self.compute = compute

    def __missing__(self, key):
        if len(self) >= MEMO_LIMIT:
            self.clear()
        value = self[key] = self.compute(key)
        return value


class _Shapes(dict):
    """SHAPE(result) -> (probability, text before 'missing', text after it, text after the amounts).

    ``remember`` makes the entry from the reference cells. A hit whose probability is not the
    very object of the entry is a miss: equal Decimals need not print alike.
    """

    def __init__(self, texts: Callable):
        super().__init__()
        self.texts = texts

    def remember(self, result) -> tuple:
        if len(self) >= MEMO_LIMIT:
            self.clear()
        entry = self[SHAPE(result)] = (result[6], *self.texts(result))
        return entry


NOTHING = (object(), None, None, None)  # a shape entry whose probability is no value


def _csv_shape(ruleset):
    def texts(result) -> tuple[str, str, str]:
        over = is_over_staged(ruleset, result)
        return (
            ",".join([cell(result[1]), cell(result[2]), cell(list(result[3]))]),
            ",".join([cell(list(result[4])), cell(list(result[5])), cell(result[6])]),
            ",".join([cell(result[9]), cell(over)]),
        )

    return texts


def _json_shape(ruleset):
    def texts(result) -> tuple[str, str, str]:
        over = is_over_staged(ruleset, result)
        return (
            f'"stage": {dumps(result[1])}, "verdict": {dumps(result[2])}, "failed": {dumps(list(result[3]))}',
            f'"qualify_out": {dumps(list(result[4]))}, "warnings": {dumps(list(result[5]))}, '
            f'"probability": {dumps(result[6])}',
            f'"evidence_stage": {dumps(result[9])}, "over_staged": {dumps(over)}',
        )

    return texts


class _Source:
    """The lines of one generated function, and the values it binds as keyword defaults."""

    def __init__(self, name: str):
        self.name = name
        self.lines: list[str] = []
        self.names: dict = {}

    def bind(self, name: str, value) -> str:
        self.names[name] = value
        return name

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)

    def compile(self, filename: str) -> tuple[Callable, str]:
        defaults = ", ".join(f"{n}={n}" for n in self.names)
        source = "\n".join([f"def {self.name}(scored, *, {defaults}):", *self.lines]) + "\n"
        namespace = dict(self.names)
        exec(compile(source, filename, "exec"), namespace)  # fixed templates, repr'd names only
        return namespace[self.name], source


def _string_field(ruleset, name: str) -> bool:
    fields = ruleset.fields.fields
    return name in fields and fields[name].type == T.STRING and fields[name].compute is None


def _start(src: _Source, texts: Callable) -> None:
    """Unpack the deal and look up the text its result shares with others."""
    src.bind("SHAPES", _Shapes(texts))
    src.bind("SHAPE", SHAPE)
    src.bind("NOTHING", NOTHING)
    src.bind("INT", int)
    src.emit("line, d, r, source, known = scored")
    src.emit("get = d.get")
    src.emit("shape = SHAPES.get(SHAPE(r), NOTHING)")
    src.emit("if shape[0] is not r[6]:")
    src.emit("    shape = SHAPES.remember(r)")


def _missing(src: _Source, ruleset, as_of) -> None:
    """Emit ``missing``: the deal's missing-fields map when it has one, else None."""
    if ruleset.nullable_criteria:
        # Some exit criterion can be unknown (a null it needed): find which, for failed deals only.
        src.bind("missing_of", lambda scored: missing_by_criterion(ruleset, scored, as_of))
        src.emit("missing = missing_of(scored) if r[3] else None")
    else:
        # The type checker proves no criterion of this pack can be unknown: only an engine's own map.
        src.emit("missing = known if r[3] else None")


def _money(src: _Source, target: str, value: str, blank: str, finish: str) -> None:
    """``target`` = the money text of ``value`` (engine.money.money_text, inlined) through ``finish``
    (an expression of ``target``), or ``blank`` for None."""
    src.bind("CENT", CENT)
    src.bind("HALF_UP", ROUND_HALF_UP)
    src.emit(f"{target} = {value}")
    src.emit(f"if {target} is None:")
    src.emit(f"    {target} = {blank}")
    src.emit("else:")
    src.emit(f"    {target} = {target}.quantize(CENT, HALF_UP)")
    src.emit(f"    {target} = str({target} if {target} else {target}.copy_abs())  # never '-0.00'")
    src.emit(f"    {target} = {finish}")


def compile_csv_line(ruleset, as_of) -> tuple[Callable, str]:
    """``csv_line(scored)``: the deal's line of ``write_csv``, newline included. Returns it and its source."""

    def reference_line(scored) -> str:
        buffer = io.StringIO()
        csv_writer(buffer).writerow([cell(v) for v in deal_record(ruleset, scored, as_of).values()])
        return buffer.getvalue()

    src = _Source("csv_line")
    _start(src, _csv_shape(ruleset))
    src.bind("safe_cell", safe_cell)
    src.bind("FORMULA_START", FORMULA_START)
    src.bind("FILES", _Memo(safe_cell))
    src.bind("reference_line", reference_line)
    _missing(src, ruleset, as_of)
    src.emit("if missing:")
    src.emit("    return reference_line(scored)")
    src.emit("line = str(line) if type(line) is INT else safe_cell(line)")
    for field, name, value in TEXT_FIELDS:
        src.emit(f"{name} = {value}")
        if _string_field(ruleset, field):
            src.emit(
                f"{name} = '' if {name} is None else {name} if not {name}.startswith(FORMULA_START) "
                f"else safe_cell({name})"
            )
        else:
            src.emit(f"{name} = safe_cell({name})")
    for name, value in (("amount", "r[7]"), ("weighted", "r[8]")):
        _money(src, name, value, "''", f"{name} if not {name}.startswith(FORMULA_START) else safe_cell({name})")
    categories = bool(ruleset.pipeline.categories)
    if categories:  # category ids are identifiers: no formula guard, no quoting
        src.emit("category = r[10] or ''")
    src.emit(
        "text = f'{FILES[source]},{line},{deal_id},{name},{owner},{shape[1]},,{shape[2]},{amount},{weighted},"
        "{shape[3]}" + (",{category}'" if categories else "'")
    )
    # With no delimiter inside a cell (15 commas in all, 16 with a category) and no character csv.writer
    # quotes, this is the line csv.writer writes.
    checks = "".join(f" or {c!r} in text" for c in QUOTED)
    src.emit(f"if text.count(',') != {15 + categories}{checks}:")
    src.emit("    return reference_line(scored)")
    src.emit("return text + '\\n'")
    return src.compile("<dealgate csv writer>")


def compile_json_object(ruleset, as_of) -> tuple[Callable, str]:
    """``json_object(scored)``: the deal as ``dumps(deal_record(...))`` writes it. Returns it and its source."""
    src = _Source("json_object")
    _start(src, _json_shape(ruleset))
    src.bind("encode", json.encoder.encode_basestring)  # what json.dumps(ensure_ascii=False) escapes with
    src.bind("dumps", dumps)
    src.bind("FILES", _Memo(dumps))
    _missing(src, ruleset, as_of)
    src.emit("missing = '{}' if not missing else dumps(missing)")
    src.emit("line = str(line) if type(line) is INT else dumps(line)")
    for field, name, value in TEXT_FIELDS:
        src.emit(f"{name} = {value}")
        strings = _string_field(ruleset, field)
        src.emit(f"{name} = 'null' if {name} is None else {'encode' if strings else 'dumps'}({name})")
    for name, value in (("amount", "r[7]"), ("weighted", "r[8]")):
        # money texts are digits, a point and maybe a sign: nothing to escape
        _money(src, name, value, "'null'", f"'\"' + {name} + '\"'")
    tail = "}}"
    if ruleset.pipeline.categories:  # category ids are identifiers: nothing to escape
        src.emit("category = 'null' if r[10] is None else '\"' + r[10] + '\"'")
        tail = ', "category": {category}}}'
    src.emit(
        'return (f\'{{"file": {FILES[source]}, "line": {line}, "id": {deal_id}, "name": {name}, '
        '"owner": {owner}, {shape[1]}, "missing": {missing}, {shape[2]}, "amount": {amount}, '
        '"weighted_amount": {weighted}, {shape[3]}' + tail + "')"
    )
    return src.compile("<dealgate json writer>")
