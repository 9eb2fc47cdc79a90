"""Generated row writers: one scored deal as its CSV line or JSON object, straight from the tuples.

``deal_record`` (engine.render.deals) builds a 16-key dict per deal and every format is made
from it; on a million deals that dict, and a generic cell function called 16 times per row,
cost more than reading and scoring. Like the export reader's row converters
(engine.read.csv.compile_row), this writes straight-line Python once per pack that reads the
ScoredDeal and DealResult tuples and returns the finished text. Values with few distinct
texts (stage ids, probabilities, id lists, the export's name) are looked up in memos; only
free text (ids, names, owners) is escaped per row. The output is byte for byte what the
dict-based renderers write: anything unusual (a CSV cell that needs quoting, a missing-fields
map) takes the generic path, and tests/test_render_rows.py holds the two to each other.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP
from typing import Callable

from .. import types as T
from ..money import CENT
from ..output import FORMULA_START, safe_cell
from ..results import VERDICTS
from ..score import missing_by_criterion

MEMO_LIMIT = 4096  # distinct texts kept per memo (stage ids, id lists...): far more than a pack has


def _quoted_characters() -> str:
    """The characters that make ``csv.writer`` quote a cell besides the delimiter (probed: it varies
    by Python version: 3.11 leaves a lone carriage return bare when the line terminator is "\\n")."""
    found = []
    for code in range(128):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(["a" + chr(code), "b"])
        if buffer.getvalue().startswith('"') and chr(code) != ",":
            found.append(chr(code))
    return "".join(found)


QUOTED = _quoted_characters()


def csv_cells_line(cells) -> str:
    """One CSV line as ``csv.writer`` writes it: the generic path for rows whose cells need quoting."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _memo(compute: Callable) -> dict:
    """A dict that fills itself: ``memo[key]`` is ``compute(key)``, remembered (bounded).

    For keys whose equal values have equal texts: strings, tuples of strings, None.
    """

    class Memo(dict):
        def __missing__(self, key):
            if len(self) >= MEMO_LIMIT:
                self.clear()
            value = self[key] = compute(key)
            return value

    return Memo()


class _IdentityMemo(dict):
    """id(value) -> (value, text), for Decimals: equal ones may print differently (0.1 and 0.10;
    0 and -0 as JSON floats), so they are told apart by identity. Holding the value keeps its id
    from being reused. A pack's probabilities are a handful of objects shared by every deal."""

    def __init__(self, compute: Callable):
        super().__init__()
        self.compute = compute

    def remember(self, value) -> tuple:
        if len(self) >= MEMO_LIMIT:
            self.clear()
        entry = self[id(value)] = (value, self.compute(value))
        return entry


TEXT_FIELDS = (("id", "deal_id", "r[0]"), ("name", "name", "get('name')"), ("owner", "owner", "get('owner')"))
NOTHING = (object(), None)  # an identity-memo entry that matches no value


def _missing_text(missing: dict) -> str:
    return ";".join(f"{k}:{','.join(v)}" for k, v in missing.items())


def _dumps(value) -> str:
    from .deals import dumps  # the renderer's own JSON, so the two cannot drift

    return dumps(value)


class _Source:
    """The lines of one generated function, and the values it binds as keyword defaults."""

    def __init__(self, name: str):
        self.lines = [f"def {name}(scored):"]
        self.names: dict = {}

    def bind(self, name: str, value) -> str:
        self.names[name] = value
        return name

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)

    def compile(self, filename: str) -> tuple[Callable, str]:
        header = self.lines[0].replace("):", ", *, " + ", ".join(f"{n}={n}" for n in self.names) + "):")
        source = "\n".join([header, *self.lines[1:]]) + "\n"
        namespace = dict(self.names)
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - fixed templates, repr'd names only
        return namespace[self.lines[0][4:].split("(")[0]], source


def _string_field(ruleset, name: str) -> bool:
    fields = ruleset.fields.fields
    return name in fields and fields[name].type == T.STRING and fields[name].compute is None


def _common(src: _Source, ruleset, as_of) -> None:
    """Unpack the deal, and compute what both formats share: the missing-fields map, over-staging."""
    src.emit("line, d, r, source, known = scored")
    src.emit("get = d.get")
    src.emit("stage, evidence = r[1], r[9]")
    if ruleset.nullable_criteria:
        # Some exit criterion can be unknown (a null it needed): find which, for failed deals only.
        src.bind("missing_of", lambda scored: missing_by_criterion(ruleset, scored, as_of))
        src.emit("missing = missing_of(scored) if r[3] else None")
    else:
        # The type checker proves no criterion of this pack can be unknown: only an engine's own map.
        src.emit("missing = known if r[3] else None")
    src.bind("OPEN", dict(ruleset.open_positions))
    src.emit("position = OPEN.get(stage)")
    src.emit("over = position is not None and OPEN.get(evidence, -1) < position - 1")


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


def _by_identity(src: _Source, memo: str, target: str, value: str) -> None:
    """``target`` = the text of ``value`` from an identity memo (see _IdentityMemo)."""
    src.bind("NOTHING", NOTHING)
    src.bind("identity", id)
    src.emit(f"entry = {memo}.get(identity({value}), NOTHING)")
    src.emit(f"if entry[0] is not {value}:")
    src.emit(f"    entry = {memo}.remember({value})")
    src.emit(f"{target} = entry[1]")


def compile_csv_line(ruleset, as_of) -> tuple[Callable, str]:
    """``csv_line(scored)``: the deal's line of ``write_csv``, newline included. Returns it and its source."""
    src = _Source("csv_line")
    _common(src, ruleset, as_of)
    src.bind("safe_cell", safe_cell)
    src.bind("FORMULA_START", FORMULA_START)
    src.bind("FILES", _memo(safe_cell))
    src.bind("STAGES", _memo(safe_cell))
    src.bind("PROBABILITIES", _IdentityMemo(safe_cell))
    src.bind("missing_text", _missing_text)
    src.bind("join_ids", ";".join)
    src.bind("slow_line", csv_cells_line)
    for field, name, value in TEXT_FIELDS:
        src.emit(f"{name} = {value}")
        if _string_field(ruleset, field):
            src.emit(f"{name} = '' if {name} is None else {name} if not {name}.startswith(FORMULA_START) "
                     f"else safe_cell({name})")
        else:
            src.emit(f"{name} = safe_cell({name})")
    _by_identity(src, "PROBABILITIES", "probability", "r[6]")
    for name, value in (("amount", "r[7]"), ("weighted", "r[8]")):
        _money(src, name, value, "''", f"{name} if not {name}.startswith(FORMULA_START) else safe_cell({name})")
    assert all(safe_cell(v) == v for v in VERDICTS)  # so a verdict is its own cell
    src.emit("missing = '' if missing is None else missing_text(missing)")
    cells = ["FILES[source]", "str(line)", "deal_id", "name", "owner", "STAGES[stage]", "r[2]", "join_ids(r[3])",
             "missing", "join_ids(r[4])", "join_ids(r[5])", "probability", "amount", "weighted", "STAGES[evidence]",
             "'true' if over else 'false'"]
    src.emit("cells = (" + ", ".join(cells) + ")")
    src.emit("text = ','.join(cells)")
    # With no delimiter inside a cell (exactly 15 commas in all) and no character csv.writer
    # quotes, the joined cells are the line csv.writer writes.
    checks = "".join(f" or {c!r} in text" for c in QUOTED)
    src.emit(f"if text.count(',') != {len(cells) - 1}{checks}:")
    src.emit("    return slow_line(cells)")
    src.emit("return text + '\\n'")
    return src.compile("<dealgate csv writer>")


def compile_json_object(ruleset, as_of) -> tuple[Callable, str]:
    """``json_object(scored)``: the deal as ``dumps(deal_record(...))`` writes it. Returns it and its source."""
    src = _Source("json_object")
    _common(src, ruleset, as_of)
    src.bind("encode", json.encoder.encode_basestring)  # what json.dumps(ensure_ascii=False) escapes with
    src.bind("dumps", _dumps)
    src.bind("INT", int)
    src.bind("FILES", _memo(_dumps))
    src.bind("STAGES", _memo(_dumps))
    src.bind("IDS", _memo(lambda ids: _dumps(list(ids))))
    src.bind("PROBABILITIES", _IdentityMemo(_dumps))  # JSON numbers
    src.emit("line = str(line) if type(line) is INT else dumps(line)")
    for field, name, value in TEXT_FIELDS:
        src.emit(f"{name} = {value}")
        strings = _string_field(ruleset, field)
        src.emit(f"{name} = 'null' if {name} is None else {'encode' if strings else 'dumps'}({name})")
    _by_identity(src, "PROBABILITIES", "probability", "r[6]")
    for name, value in (("amount", "r[7]"), ("weighted", "r[8]")):
        # money texts are digits, a point and maybe a sign: nothing to escape
        _money(src, name, value, "'null'", f"'\"' + {name} + '\"'")
    src.emit("missing = '{}' if not missing else dumps(missing)")
    src.emit("file, stage, verdict, evidence = FILES[source], STAGES[stage], STAGES[r[2]], STAGES[evidence]")
    src.emit("failed, qualify_out, warnings = IDS[r[3]], IDS[r[4]], IDS[r[5]]")
    src.emit("over = 'true' if over else 'false'")
    pairs = [("file", "file"), ("line", "line"), ("id", "deal_id"), ("name", "name"), ("owner", "owner"),
             ("stage", "stage"), ("verdict", "verdict"), ("failed", "failed"), ("missing", "missing"),
             ("qualify_out", "qualify_out"), ("warnings", "warnings"), ("probability", "probability"),
             ("amount", "amount"), ("weighted_amount", "weighted"), ("evidence_stage", "evidence"),
             ("over_staged", "over")]
    template = ", ".join(f'"{key}": {{{name}}}' for key, name in pairs)
    src.emit(f"return f'{{{{{template}}}}}'")
    return src.compile("<dealgate json writer>")
