"""Checks of the fields document: names, defaults, computed fields, columns, date formats, and the
fields the engine itself reads; after every other check, the fields no rule uses."""

from __future__ import annotations

import datetime as dt
import re

from .. import expr as E
from .. import types as T
from ..diagnostics import Location, error, warning
from ..expr.bounds import Size, size_of
from ..model import FieldSet, coerce_default
from .checks import BUILTINS, SPECIAL_FIELDS, Checks


class FieldChecks(Checks):
    def check_fields(self, fields: FieldSet) -> None:
        available = dict(BUILTINS)
        for field in fields.fields.values():
            self.check_field_name(field.name, field.location)
            if field.type != T.DATE and field.formats and field.formats != fields.date_formats:
                self.add(
                    warning(
                        "DG311",
                        f"'formats' has no effect on {field.type} field '{field.name}'",
                        self.at("fields", ("fields", field.name, "formats"), field.location),
                    )
                )
            if field.type not in (T.MONEY, T.DECIMAL) and field.decimal_mark != fields.decimal_mark:
                self.add(
                    warning(
                        "DG311",
                        f"'decimal_mark' has no effect on {field.type} field '{field.name}'",
                        self.at("fields", ("fields", field.name, "decimal_mark"), field.location),
                        "only money and decimal fields read a decimal mark",
                    )
                )
            default, problem = coerce_default(field)
            if problem:
                self.add(
                    error(
                        "DG205",
                        f"default of '{field.name}': {problem}",
                        self.at("fields", ("fields", field.name, "default"), field.location),
                    )
                )
            elif default is not None:
                self.defaults[field.name] = default
            if field.compute is None:
                available[field.name] = E.Variable(field.type, field.nullable)
        sizes: dict = {}
        for field in fields.fields.values():
            if field.compute is not None:
                env = E.Environment(dict(available), self.environment.stages)
                expect = T.NUMERIC if field.type in T.NUMERIC else field.type
                checked = self.expression(field.compute, expect, env)
                available[field.name] = E.Variable(field.type, True)
                if checked is not None:
                    self.check_size(field, checked, sizes)
        self.check_special_fields(fields)
        self.check_columns(fields)
        self.check_date_formats(fields)
        if "id" not in fields:
            self.add(
                warning(
                    "DG309",
                    "no field named 'id'",
                    fields.location,
                    "declare id: {type: string, required: true, columns: [...]} so results name deals",
                )
            )

    def check_size(self, field, checked, sizes: dict) -> None:
        """A computed field whose value can grow past what evaluation can hold (``c * c`` chains)."""
        size = size_of(checked.ir, sizes)
        too_large = size.too_large()
        # A field reported here counts as small for the fields computed from it: one error, not a cascade.
        sizes[field.name] = Size() if too_large else size
        if too_large:
            self.add(
                error(
                    "DG209",
                    f"computed field '{field.name}' can make {too_large}",
                    self.at("fields", ("fields", field.name, "compute"), field.location),
                    "each computed field that multiplies (or joins) earlier ones doubles their size; "
                    "compute from the export's fields instead",
                )
            )

    def check_date_formats(self, fields: FieldSet) -> None:
        """A date format must read back the date it writes; else every row would be rejected at run time."""
        lists: list[tuple[tuple, tuple, Location | None]] = [(("date_formats",), fields.date_formats, fields.location)]
        lists += [
            (("fields", f.name, "formats"), f.formats, f.location)
            for f in fields.fields.values()
            if f.type == T.DATE and f.formats != fields.date_formats
        ]
        for path, formats, fallback in lists:
            for index, fmt in enumerate(formats):
                problem = _date_format_problem(fmt)
                if problem:
                    self.add(
                        error(
                            "DG322",
                            f"date format '{fmt}' {problem}",
                            self.at("fields", path + (index,), fallback),
                            "use strptime codes with a year, month and day, e.g. %m/%d/%Y or %d.%m.%y",
                        )
                    )

    def check_columns(self, fields: FieldSet) -> None:
        """One export column feeds one field: the reader would silently give it to the first."""
        claimed: dict[str, str] = {}
        for field in fields.fields.values():
            if field.compute is not None:
                continue
            for index, column in enumerate((field.name, *field.columns)):
                key = column.strip().lower()
                owner = claimed.setdefault(key, field.name)
                if owner != field.name:
                    where = (
                        self.at("fields", ("fields", field.name, "columns", index - 1), field.location)
                        if index
                        else field.location
                    )
                    self.add(
                        error(
                            "DG321",
                            f"column '{column}' of field '{field.name}' is already read by field '{owner}'",
                            where,
                            "a column can feed one field only; remove it from one of them",
                        )
                    )

    def check_special_fields(self, fields: FieldSet) -> None:
        """The engine itself reads 'stage', 'amount' and 'id': they must be what it expects."""
        stage_fields = fields.of_type(T.STAGE)
        if "stage" not in fields:
            where = stage_fields[0].location if stage_fields else fields.location
            self.add(
                error(
                    "DG309",
                    "no field named 'stage'",
                    where,
                    "declare the deal's stage as stage: {type: stage, required: true, columns: [Stage]}",
                )
            )
        for field in stage_fields:
            if field.name != "stage":
                self.add(
                    error(
                        "DG309",
                        f"field '{field.name}' has type stage, but only the field named 'stage' can",
                        field.location,
                        "rename it to 'stage'",
                    )
                )
        expected = {"stage": (T.STAGE,), "amount": (T.MONEY, T.DECIMAL), "id": (T.STRING,)}
        for name, types in expected.items():
            found = fields.fields.get(name)
            if found is None:
                continue
            field = found
            if field.type not in types:
                self.add(
                    error(
                        "DG309", f"field '{name}' must have type {' or '.join(types)}, not {field.type}", field.location
                    )
                )
            if field.compute is not None:
                self.add(
                    error("DG309", f"field '{name}' is read from the export; it cannot be computed", field.location)
                )
        stage = fields.fields.get("stage")
        if stage is not None and stage.type == T.STAGE and (not stage.required or stage.default is not None):
            self.add(
                error(
                    "DG309",
                    "the stage field must be 'required: true' and have no default",
                    stage.location,
                    "a deal without a stage cannot be judged: such rows are rejected",
                )
            )
        for field in fields.fields.values():
            if field.compute is not None and (field.required or field.default is not None or field.columns):
                self.add(
                    error(
                        "DG309",
                        f"computed field '{field.name}' cannot have 'required', 'default' or 'columns'",
                        field.location,
                        "it is never read from the export",
                    )
                )

    def check_unused(self, fields: FieldSet) -> None:
        for field in fields.fields.values():
            if (
                field.name in self.used_fields
                or field.check_only
                or self.was_cut(field.name)
                or field.name in SPECIAL_FIELDS
            ):
                continue
            self.add(
                warning(
                    "DG310",
                    f"field '{field.name}' is declared but no rule uses it",
                    field.location,
                    "use it in a criterion, qualify-out rule or plan; if it is there to be validated "
                    "(rows with a bad value are rejected), say 'check_only: true'; else remove it",
                )
            )


def _date_format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot read dates, or None. Round-trips a date with a day, month and year all distinct."""
    sample = dt.date(2031, 11, 23)
    try:
        written = sample.strftime(fmt)
        read = dt.datetime.strptime(written, fmt).date()
    except ValueError as problem:
        return f"is not a valid strptime format ({problem})"
    except re.error:  # strptime turns each code into a named group: '%Y %Y' names one twice
        return "is not a valid strptime format (a code is given twice)"
    if read != sample:
        return "does not hold a full date (it needs a year, a month and a day)"
    return None
