"""The reps file: who is paid, on which plan, against which quota.

CSV (one rep a row, a header row naming the columns) or YAML (a list of
mappings, or a mapping with a ``reps:`` list). Columns / keys:

    id                rep id, as it appears in the deals' credit field (required)
    name              display name
    plan              plan id (required)
    quota             quota per quota period of the plan; blank = the plan's default
    target_incentive  target incentive per quota period (for plans with rate_of: target_incentive)
    start, end        dates on the plan (inclusive), for proration; blank = open
    currency          ISO code; must be the plan's currency when given
    role, territory   shown on statements (an assignment's role and territory)
    hired             hire date: where a plan's quota ramp counts months of tenure from

A rep may have several rows (assignments): a plan, quota and target incentive
each for its own dates (``start``/``end``, or ``from``/``to``). The rows of one
rep must not overlap in time. A YAML reps file can also map the columns of
another file (a CRM's users export): ``source:``, ``columns:`` and
``defaults:`` (see ``mapped.py``).

Every problem is a Diagnostic with file:line:column; reading never raises
for bad content.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import attrs
import yaml

from ..diagnostics import Diagnostic, Location, did_you_mean, error, warning
from ..load import Builder, Composer  # the rule loader's location-keeping YAML reader
from ..values import ValueProblem, is_blank, parse_date, parse_money

COLUMNS = (
    "id",
    "name",
    "plan",
    "quota",
    "target_incentive",
    "start",
    "end",
    "currency",
    "role",
    "territory",
    "hired",
)
ALIASES = {
    "id": "id",
    "rep": "id",
    "rep_id": "id",
    "rep id": "id",
    "owner": "id",
    "name": "name",
    "rep name": "name",
    "rep_name": "name",
    "plan": "plan",
    "plan_id": "plan",
    "plan id": "plan",
    "quota": "quota",
    "target_incentive": "target_incentive",
    "target incentive": "target_incentive",
    "ti": "target_incentive",
    "start": "start",
    "start_date": "start",
    "start date": "start",
    "end": "end",
    "end_date": "end",
    "end date": "end",
    "from": "start",
    "to": "end",
    "effective_from": "start",
    "effective_to": "end",
    "currency": "currency",
    "role": "role",
    "territory": "territory",
    "hired": "hired",
    "hire_date": "hired",
    "hire date": "hired",
    "hired_on": "hired",
}


@attrs.frozen
class Rep:
    id: str
    plan: str
    name: str | None = None
    quota: Decimal | None = None
    target_incentive: Decimal | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    currency: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)
    role: str | None = None
    territory: str | None = None
    hired: dt.date | None = None
    # Set by engine.payout.assignments on a rep's view of one plan, when the rep has several rows or
    # the plan ramps its quota: every row of the rep (on any plan) in date order, and the first day of
    # the tenure a ramp counts months from. Empty for a rep of one row: nothing to weigh.
    assignments: tuple = attrs.field(default=(), eq=False, repr=False)
    tenure: dt.date | None = attrs.field(default=None, eq=False)

    @property
    def terms(self) -> tuple:
        """The rows that put this rep on this plan, in date order (empty: the rep is one row)."""
        return tuple(row for row in self.assignments if row.plan == self.plan)

    @property
    def bounded(self) -> bool:
        """The rep has a start or an end date."""
        return self.start is not None or self.end is not None

    def covers(self, day: dt.date) -> bool:
        """The rep is on this row's plan on ``day``."""
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def covers_any(self, start: dt.date, end: dt.date) -> bool:
        """The rep is on this row's plan on some day of ``[start, end)``."""
        return (self.start is None or self.start < end) and (self.end is None or self.end >= start)

    @property
    def display(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


@attrs.frozen
class RepsResult:
    reps: tuple  # Rep, in file order
    diagnostics: list

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def read_reps(path: Path | str, plans: dict | None = None, date_formats: tuple = (), mapping=None) -> RepsResult:
    """Read a reps file (CSV, or YAML by extension). ``plans`` maps plan id -> Plan, for checking.

    ``mapping`` is the pack's ``kind: reps`` document (engine.model.RepsMapping): the columns that
    hold each key of a CSV reps file and the values of keys it lacks.
    """
    path = Path(path)
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return RepsResult((), [error("DG601", f"cannot read reps file: {exc.strerror or exc}", Location(shown))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return RepsResult(
            (),
            [
                error(
                    "DG601",
                    "reps file is not valid UTF-8 text",
                    Location(shown),
                    "save it as UTF-8 (CSV UTF-8 in Excel)",
                )
            ],
        )
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse_reps_yaml(text, shown, plans, date_formats, mapping)
    return parse_reps_csv(text, shown, plans, date_formats, mapping)


def parse_reps_csv(
    text: str, file: str, plans: dict | None = None, date_formats: tuple = (), mapping=None
) -> RepsResult:
    diagnostics: list[Diagnostic] = []
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return RepsResult(
            (),
            [
                error(
                    "DG601",
                    "reps file is empty",
                    Location(file, 1, 1),
                    "the first row names the columns: id,name,plan,quota,...",
                )
            ],
        )
    except csv.Error as exc:
        return RepsResult((), [error("DG601", f"reps file is not valid CSV: {exc}", Location(file, 1, 1))])
    columns = _map_header(header, file, diagnostics, mapping)
    if columns is None:
        return RepsResult((), diagnostics)
    records = []
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                diagnostics.append(
                    error(
                        "DG603",
                        f"row has {len(row)} cells but the header has {len(header)}",
                        Location(file, number, 1),
                        "quote cells that contain commas",
                    )
                )
                continue
            offsets = _cell_columns(lines[number - 1] if number - 1 < len(lines) else "", len(row))
            values, where = {}, {}
            for index, cell in enumerate(row):
                for key in columns.get(index, ()):
                    values[key] = cell
                    where[key] = Location(file, number, offsets[index])
            records.append((values, where, Location(file, number, 1)))
    except csv.Error as exc:
        diagnostics.append(error("DG601", f"reps file is not valid CSV: {exc}", Location(file, reader.line_num, 1)))
    reps = _build(records, plans, date_formats, diagnostics, mapping)
    return RepsResult(tuple(reps), diagnostics)


def _cell_columns(line: str, count: int) -> list[int]:
    """1-based column of each cell of a CSV line: a comma inside quotes ("100,000.00") starts no cell."""
    columns, quoted = [1], False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted  # a doubled quote inside a quoted cell toggles twice
        elif char == "," and not quoted:
            columns.append(index + 2)
    return columns + [1] * max(count - len(columns), 0)


def _map_header(header: list, file: str, diagnostics: list, mapping=None) -> dict | None:
    """Column index -> the reps-file keys it holds (several when a mapping reads one column twice)."""
    columns: dict[int, list[str]] = {}
    seen: dict[str, int] = {}
    offsets = _cell_columns(",".join(header), len(header))
    names = [name.strip().lower() for name in header]
    mapped = mapping.columns if mapping is not None else {}
    for key, wanted in mapped.items():  # the pack's reps document: the first of its columns the file has
        index = next((names.index(n.strip().lower()) for n in wanted if n.strip().lower() in names), None)
        if index is not None:
            seen[key] = index
            columns.setdefault(index, []).append(key)
    for index, name in enumerate(header):
        key = ALIASES.get(names[index])
        where = Location(file, 1, offsets[index])
        if key is not None and key in mapped and key in seen:
            continue  # the reps document's column for that key is the one read
        if key is None:
            if name.strip() and mapping is None:
                diagnostics.append(
                    warning(
                        "DG602",
                        f"unknown column '{name.strip()}' in the reps file is ignored",
                        where,
                        did_you_mean(name.strip(), list(COLUMNS)) or f"columns are: {', '.join(COLUMNS)}",
                    )
                )
            continue
        if key in seen:
            diagnostics.append(error("DG602", f"column '{name.strip()}' repeats column {seen[key] + 1} ({key})", where))
            continue
        seen[key] = index
        columns.setdefault(index, []).append(key)
    defaults = mapping.defaults if mapping is not None else {}
    missing = [key for key in ("id", "plan") if key not in seen and key not in defaults]
    if missing:
        wanted = mapped.get(missing[0])
        diagnostics.append(
            error(
                "DG602",
                f"the reps file has no '{missing[0]}' column"
                + (f" (the reps document reads it from {', '.join(repr(w) for w in wanted)})" if wanted else ""),
                Location(file, 1, 1),
                f"the header needs at least: id,plan (found: {', '.join(h.strip() for h in header)})"
                if mapping is None
                else "map the column in the pack's reps document (columns:), or give a default (defaults:)",
            )
        )
        return None
    return columns


def parse_reps_yaml(
    text: str, file: str, plans: dict | None = None, date_formats: tuple = (), mapping=None
) -> RepsResult:
    diagnostics: list[Diagnostic] = []
    try:
        composer = Composer(text)
        node = composer.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        return RepsResult((), [error("DG601", f"reps file is not valid YAML: {exc.problem or exc}", at)])
    except yaml.YAMLError as exc:
        return RepsResult((), [error("DG601", f"reps file is not valid YAML: {exc}", Location(file))])
    except (RecursionError, Exception):  # the loader's nesting guard and the like: refuse
        return RepsResult(
            (), [error("DG601", "reps file is too deeply nested to be a list of reps", Location(file, 1, 1))]
        )
    if node is None:
        return RepsResult((), [error("DG601", "reps file is empty", Location(file, 1, 1))])
    builder = Builder(file)
    try:
        data = builder.build(node)
    except Exception:  # an alias bomb or the like: refuse the file, do not crash
        return RepsResult((), [error("DG601", "reps file is too large or too deeply nested", Location(file, 1, 1))])
    diagnostics.extend(builder.diagnostics)
    path: tuple = ()
    if isinstance(data, dict) and "reps" in data:
        data, path = data["reps"], ("reps",)
    if not isinstance(data, list):
        return RepsResult(
            (),
            diagnostics
            + [
                error(
                    "DG601",
                    "a YAML reps file is a list of reps (or 'reps:' with a list)",
                    builder.values.get(path, Location(file, 1, 1)),
                    "- {id: alice, plan: ae-2026, quota: 250000}",
                )
            ],
        )
    mapped: dict[str, list[str]] = {}  # a key's name in the file (lower case) -> the reps-file keys it holds
    for name, wanted in mapping.columns.items() if mapping is not None else ():
        for column in wanted:
            mapped.setdefault(column.strip().lower(), []).append(name)
    records = []
    for index, item in enumerate(data):
        item_path = path + (index,)
        at = builder.values.get(item_path, Location(file, 1, 1))
        if not isinstance(item, dict):
            diagnostics.append(error("DG603", "each rep is a mapping with id, plan, ...", at))
            continue
        values: dict[str, str] = {}
        where: dict[str, Location] = {}
        for key, value in item.items():
            lowered = str(key).strip().lower()
            names = mapped.get(lowered) or ([ALIASES[lowered]] if lowered in ALIASES else [])
            key_at = builder.keys.get(item_path + (key,), at)
            if not names:
                if mapping is None:
                    diagnostics.append(
                        warning(
                            "DG602",
                            f"unknown key '{key}' in a rep is ignored",
                            key_at,
                            did_you_mean(str(key), list(COLUMNS)) or f"keys are: {', '.join(COLUMNS)}",
                        )
                    )
                continue
            for name in names:
                if name in values and lowered not in mapped:
                    continue  # the reps document's key for it is the one read
                values[name] = "" if value is None else (str(value) if not isinstance(value, str) else value)
                where[name] = builder.values.get(item_path + (key,), key_at)
        records.append((values, where, at))
    reps = _build(records, plans, date_formats, diagnostics, mapping)
    return RepsResult(tuple(reps), diagnostics)


def reps_from_records(
    records: Iterable[dict], plans: dict | None = None, date_formats: tuple = (), file: str = "<reps>"
) -> RepsResult:
    """Reps from plain mappings (a rule test case's ``reps:``, JSON, ...), with the same checks as a file."""
    diagnostics: list[Diagnostic] = []
    prepared: list = []
    for index, item in enumerate(records):
        at = Location(file, 0, 0)
        if not isinstance(item, dict):
            diagnostics.append(error("DG603", f"rep #{index + 1} is not a mapping with id, plan, ...", at))
            continue
        values = {}
        for key, value in item.items():
            name = ALIASES.get(str(key).strip().lower())
            if name is None:
                diagnostics.append(
                    warning(
                        "DG602",
                        f"unknown key '{key}' in rep #{index + 1} is ignored",
                        at,
                        did_you_mean(str(key), list(COLUMNS)) or f"keys are: {', '.join(COLUMNS)}",
                    )
                )
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            values[name] = "" if value is None else (value if isinstance(value, str) else str(value))
        prepared.append((values, {}, at))
    reps = _build(prepared, plans, date_formats, diagnostics)
    return RepsResult(tuple(reps), diagnostics)


def _build(records: Iterable, plans: dict | None, date_formats: tuple, diagnostics: list, mapping=None) -> list[Rep]:
    reps: list[Rep] = []
    rows: dict[str, list[Rep]] = {}  # rep id -> its rows so far
    defaults = mapping.defaults if mapping is not None else {}
    for values, where, at in records:
        for key, value in defaults.items():
            if is_blank(values.get(key)):
                values[key] = value
                if mapping.document is not None:
                    where[key] = mapping.document.locate(("defaults", key))
        rep = _rep(values, where, at, plans, date_formats, diagnostics)
        if rep is None:
            continue
        clash = next((other for other in rows.get(rep.id, ()) if _overlap(rep, other)), None)
        if clash is not None:
            diagnostics.append(
                error(
                    "DG605",
                    f"rep '{rep.id}' is listed twice (first at line {clash.location.line if clash.location else '?'}) "
                    f"for overlapping dates "
                    f"({_span(clash)} and {_span(rep)})",
                    where.get("id", at),
                    "a rep is on one plan at a time: give each row its own start and end dates, or merge the rows",
                )
            )
            continue
        rows.setdefault(rep.id, []).append(rep)
        reps.append(rep)
    return reps


def _overlap(one: Rep, other: Rep) -> bool:
    """Two rows of a rep whose dates share a day (blank dates are open)."""
    return (one.end is None or other.start is None or other.start <= one.end) and (
        other.end is None or one.start is None or one.start <= other.end
    )


def _span(rep: Rep) -> str:
    return f"{rep.start or '...'} to {rep.end or '...'}"


def _rep(values, where, at, plans, date_formats, diagnostics) -> Rep | None:
    ok = True

    def fail(key, message, hint=None):
        nonlocal ok
        ok = False
        diagnostics.append(error("DG603", message, where.get(key, at), hint))

    rep_id = values.get("id", "").strip()
    plan_id = values.get("plan", "").strip()
    if not rep_id:
        fail("id", "rep id is blank", "the id is the value of the deal's credit field (e.g. the owner)")
    if not plan_id:
        fail("plan", f"rep '{rep_id}' has no plan")
    elif plans is not None and plan_id not in plans:
        ok = False
        diagnostics.append(
            error(
                "DG604",
                f"unknown plan '{plan_id}' for rep '{rep_id}'",
                where.get("plan", at),
                did_you_mean(plan_id, list(plans)) or f"plans are: {', '.join(plans) or 'none'}",
            )
        )

    # Amounts are read like a money cell of an export, in the plan's currency (else the rep's own):
    # 'EUR 100000' for a plan paying in USD is refused, never read as dollars.
    paid_in = getattr(plans[plan_id], "currency", None) if plans and plan_id in plans else None
    paid_in = paid_in or values.get("currency", "").strip().upper() or None

    def money(key):
        text = values.get(key)
        if is_blank(text):
            return None
        try:
            value = parse_money(text, paid_in)
        except ValueProblem as problem:
            hint = (
                f"write a plain amount in {paid_in} such as 250000"
                if paid_in
                else "write a plain amount such as 250000"
            )
            fail(key, f"{key} of rep '{rep_id}': {problem}", hint)
            return None
        if value < 0 or (key == "quota" and value == 0):
            fail(key, f"{key} of rep '{rep_id}' must be {'more than' if key == 'quota' else 'at least'} 0, not {value}")
            return None
        return value

    def date(key):
        text = values.get(key)
        if is_blank(text):
            return None
        try:
            day = parse_date(text, date_formats)
        except ValueProblem as problem:
            fail(key, f"{key} date of rep '{rep_id}': {problem}")
            return None
        if day.year < 1900:  # statements carry from the start of the fiscal year: year 1 has none before it
            fail(key, f"{key} date of rep '{rep_id}' is {day}, before 1900")
            return None
        return day

    quota, target = money("quota"), money("target_incentive")
    start, end, hired = date("start"), date("end"), date("hired")
    if start and end and end < start:
        fail("end", f"rep '{rep_id}' ends ({end}) before starting ({start})")
    currency = values.get("currency", "").strip().upper() or None
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        fail("currency", f"'{currency}' is not a currency code", "use ISO 4217 codes such as USD, EUR, GBP")
    plan = plans.get(plan_id) if plans else None
    if plan is not None and currency is not None and currency != plan.currency:
        ok = False
        diagnostics.append(
            error(
                "DG606",
                f"rep '{rep_id}' is paid in {currency} but plan '{plan_id}' pays in {plan.currency}",
                where.get("currency", at),
                "a rep is paid in the plan's currency (deals may be converted to it, not pay); use a plan in the "
                "rep's currency",
            )
        )
    if not ok:
        return None
    name = values.get("name", "").strip() or None
    role = values.get("role", "").strip() or None
    territory = values.get("territory", "").strip() or None
    return Rep(rep_id, plan_id, name, quota, target, start, end, currency, at, role, territory, hired)
