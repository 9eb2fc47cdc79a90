"""Raw export cells to typed values and reject reasons in SQL, exactly as the Python reader.

``read_cell(field, raw, stages=..., default=...)`` returns a ``Cell`` of two sqlglot
expressions over ``raw`` (the cell as VARCHAR, NULL when empty or absent):

- ``value``: the typed value (``engine.sql.types``); the default when the cell is blank;
  NULL when blank without a default, and NULL whenever ``problem`` is not;
- ``problem``: VARCHAR, exactly ``str(ValueProblem)`` that ``engine.values`` gives for the
  text, or "missing required field 'NAME'" for a blank required field without default;
  NULL when the cell reads fine.

This is ``ExportReader._compile_row`` for one cell: blank is empty or all whitespace
(Python's idea of it, including no-break spaces); a string field's value is the stripped
text. Each reader below mirrors one parser of ``engine.values`` step by step, in its order,
so that the first problem Python meets is the one reported. A rule that cannot be
reproduced exactly raises ``Unsupported`` when the expression is built, never a guess.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
from sqlglot import exp

from .. import types as T
from .. import values as V
from . import dates
from .textops import (
    Unsupported,
    case,
    char_class,
    concat,
    extract,
    is_blank,
    length,
    let,
    lit,
    lower_equals,
    matches,
    non_ascii_digits,
    num,
    quoted,
    remove_chars,
    renumber,
    strip,
    whitespace,
)
from .types import decimal_type, sql_type

__all__ = ["Cell", "Unsupported", "read_cell", "literal"]

_NULL = exp.Null


@attrs.frozen
class Cell:
    """The typed value of one cell and the reason it cannot be read (NULL when it can)."""

    value: exp.Expr
    problem: exp.Expr


def read_cell(field, raw: exp.Expr, *, stages: dict | None = None, default=None) -> Cell:
    """The SQL reading of one export cell of ``field`` (an ``engine.model.Field``).

    ``raw`` is the cell's text (NULL for an empty or absent cell); ``stages`` is
    ``Analysis.stage_lookup`` (lower-cased label or id -> stage id; None reads stage
    labels as they are written, like ``engine.values.stage_id``); ``default`` is the field's
    typed default (``Analysis.defaults``), or None. Raises ``Unsupported`` for a rule the
    SQL engines cannot read exactly (an exotic date format, a Greek sigma in a stage label).
    """
    reader = _READERS.get(field.type)
    if reader is None:
        raise Unsupported(f"field type {field.type!r}")
    value, problem = (renumber(e) for e in reader(raw, field, stages))
    blank = is_blank(raw)
    if field.required and default is None:
        missing: exp.Expr = lit(f"missing required field '{field.name}'")
    else:
        missing = _NULL()
    typed_default = literal(field.type, default)
    return Cell(value=case((blank, typed_default), default=value), problem=case((blank, missing), default=problem))


def literal(type_: str, value) -> exp.Expr:
    """A typed Python value (a default: Decimal, int, bool, date, str or tuple) as a SQL literal of ``type_``."""
    if value is None:
        return exp.cast(_NULL(), sql_type(type_))
    if type_ in (T.MONEY, T.DECIMAL):
        return exp.cast(lit(_plain(Decimal(value))), decimal_type())
    if type_ == T.INT:
        return exp.cast(num(int(value)), sql_type(type_))
    if type_ == T.BOOL:
        return exp.Boolean(this=bool(value))
    if type_ == T.DATE:
        return exp.cast(lit(dt.date.isoformat(value)), sql_type(type_))
    if type_ == T.LIST:
        return exp.cast(exp.Array(expressions=[lit(str(item)) for item in value]), sql_type(type_))
    return lit(str(value))


def _plain(value: Decimal) -> str:
    return format(value, "f")


# strings, stages, booleans, lists


def _string(raw, field, stages):
    return strip(raw), _NULL()


def _stage(raw, field, stages):
    if stages is None:
        return strip(raw), _NULL()
    by_stage: dict[str, list] = {}
    for key, stage in stages.items():
        by_stage.setdefault(stage, []).append(key)
    patterns = [("^(?:" + "|".join(lower_equals(k) for k in keys) + ")$", stage) for stage, keys in by_stage.items()]

    def read(text):
        whens = [(matches(text, pattern), lit(stage)) for pattern, stage in patterns]
        value = case(*whens) if whens else exp.cast(_NULL(), sql_type(T.STAGE))
        return value, case((_is_null(value), concat("unknown stage label ", quoted(text))))

    return let(strip(raw), read)


def _is_null(node) -> exp.Expr:
    return exp.Is(this=node.copy(), expression=_NULL())


def _bool(raw, field, stages):
    def words(value: bool) -> str:
        return "^(?:" + "|".join(lower_equals(w) for w, v in sorted(V.BOOL_WORDS.items()) if v is value) + ")$"

    reason = " is not true/false (expected TRUE/FALSE, yes/no, Y/N or 1/0)"

    def read(text):
        value = case((matches(text, words(True)), exp.true()), (matches(text, words(False)), exp.false()))
        return value, case((_is_null(value), concat(quoted(raw), reason)))

    return let(strip(raw), read)


def _list(raw, field, stages):
    """``parse_list``: split the raw text on the separator, strip each part, drop empty parts."""
    part = exp.to_identifier("part")
    parts = exp.Split(this=raw.copy(), expression=lit(field.separator))
    stripped = exp.Transform(this=parts, expression=exp.Lambda(this=strip(part.copy()), expressions=[part.copy()]))
    kept = exp.ArrayFilter(
        this=stripped,
        expression=exp.Lambda(this=exp.NEQ(this=part.copy(), expression=lit("")), expressions=[part.copy()]),
    )
    return kept, _NULL()


# numbers

# ``_NUMBER`` of engine.values, anchored, with its groups: sign, whole, fraction, exponent sign, exponent digits
# (leading zeros of the exponent left out of the group).
_NUMBER = r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)0*([0-9]+))?$"
_GROUPED = V._GROUPED.pattern


def _digits_problem(raw, what: str) -> tuple:
    """(condition, message): the text holds a digit other than 0-9."""
    return matches(raw, char_class(non_ascii_digits())), concat(quoted(raw), f" is not {what} (digits must be 0-9)")


def _int_of(digits: exp.Expr, bound: int) -> exp.Expr:
    """The whole number written by ``digits`` (0-9 only, maybe ''), as BIGINT; ``bound`` when longer than 15 digits.

    The CASE keeps every CAST on text that is a short run of digits, so no engine ever
    errors on a row whose value is not used.
    """
    short = matches(digits, "^[0-9]{1,15}$")
    return case(
        (short, exp.cast(digits.copy(), "BIGINT")),
        (exp.EQ(this=digits.copy(), expression=lit("")), num(0)),
        default=num(bound),
    )


def _number(cleaned: exp.Expr, raw: exp.Expr, what: str) -> tuple:
    """``engine.values._number``: (DECIMAL value or NULL, problem or NULL) of ``cleaned``.

    The bounds are checked on the digits and exponent as written: the significant digits
    (``digits``) and the exponent of the last one (``exponent``), as ``_number`` does.
    """

    def read(plain):
        grammar = exp.and_(matches(plain, _NUMBER), matches(plain, r"^[+-]?\.?[0-9]"))
        sign, whole, fraction, exponent_sign, exponent_digits = (extract(plain, _NUMBER, i) for i in range(1, 6))
        written = _int_of(exponent_digits, 10**V.MAX_EXPONENT_DIGITS)
        signed = case((exp.EQ(this=exponent_sign, expression=lit("-")), exp.Neg(this=written)), default=written)
        significant = exp.Trim(this=concat(whole, fraction), expression=lit("0"), position="LEADING")
        return let(
            significant,
            lambda digits: let(
                exp.Sub(this=signed, expression=length(fraction)),
                lambda exponent: _bounded(grammar, sign, digits, exponent),
            ),
        )

    def _bounded(grammar, sign, digits, exponent):
        too_large = exp.and_(
            exp.GT(this=length(digits), expression=num(0)),
            exp.GT(
                this=exp.Add(this=exponent.copy(), expression=length(digits)),
                expression=num(V.MAX_ADJUSTED_EXPONENT + 1),
            ),
        )
        too_many = exp.LT(this=exponent.copy(), expression=num(V.MIN_EXPONENT))
        problem = case(
            (
                exp.and_(matches(cleaned, ","), exp.not_(matches(cleaned, _GROUPED))),
                concat(quoted(raw), f" is not {what} (a comma may only separate thousands)"),
            ),
            (exp.not_(grammar), concat(quoted(raw), f" is not {what}")),
            (too_large, concat(quoted(raw), f" is too large for {what}")),
            (too_many, concat(quoted(raw), f" has too many decimal places (at most {-V.MIN_EXPONENT})")),
        )
        value = case((_is_null(problem), _decimal(sign, digits, exponent)))
        return value, problem

    return let(exp.Replace(this=cleaned.copy(), expression=lit(","), replacement=lit("")), read)


def _comma_number(cleaned: exp.Expr, raw: exp.Expr, what: str) -> tuple:
    """``engine.values._comma_number``: whole grouping by points or group spaces ('_'), then ``_number``
    of the text with a decimal point."""

    def read(text):
        bad_grouping = exp.and_(matches(text, "[._]"), exp.not_(matches(text, V._GROUPED_COMMA.pattern)))
        plain = exp.Replace(this=remove_chars(text, "._"), expression=lit(","), replacement=lit("."))
        value, problem = _number(plain, raw, what)
        reason = f" is not {what} (the decimal mark is ','; '.' or a space may only separate thousands)"
        return (
            case((bad_grouping, _NULL()), default=value),
            case((bad_grouping.copy(), concat(quoted(raw), reason)), default=problem),
        )

    return let(cleaned, read)


def _group_spaces(text: exp.Expr) -> exp.Expr:
    """``engine.values._group_spaces``: each group space as '_'."""
    return exp.Translate(this=text.copy(), from_=lit(V.GROUP_SPACES), to=lit("_" * len(V.GROUP_SPACES)))


def _loose_group_spaces(cleaned: exp.Expr) -> exp.Expr:
    """``engine.values._loose_group_spaces``: the same replacements in the same order, then '_' off both ends."""
    for pair in V._LOOSE_GROUP_SPACES:
        cleaned = exp.Replace(this=cleaned, expression=lit(pair), replacement=lit(pair.replace("_", "")))
    return exp.Trim(this=cleaned, expression=lit("_"))


def _decimal(sign, digits, exponent) -> exp.Expr:
    """sign, significant digits and exponent (within bounds) as DECIMAL(22, 6), through plain text.

    The exponent is clamped to the readable range, so that the text stays short and
    castable on rows whose value is not used (engines may compute it anyway).
    """
    coefficient = case((exp.EQ(this=digits.copy(), expression=lit("")), lit("0")), default=digits)
    shift = exp.Least(
        this=exp.Greatest(this=exponent.copy(), expressions=[num(V.MIN_EXPONENT)]),
        expressions=[num(V.MAX_ADJUSTED_EXPONENT + 1)],
    )

    def text(coefficient, shift):
        width = exp.Greatest(this=length(coefficient), expressions=[exp.Sub(this=num(1), expression=shift.copy())])
        padded = exp.Pad(
            this=coefficient.copy(), expression=exp.cast(width, "INT"), fill_pattern=lit("0"), is_left=True
        )
        places = exp.Neg(this=shift.copy())
        return let(
            padded,
            lambda padded: (
                case(
                    (
                        exp.GTE(this=shift.copy(), expression=num(0)),
                        concat(
                            coefficient,
                            exp.Repeat(
                                this=lit("0"),
                                times=exp.cast(exp.Greatest(this=shift.copy(), expressions=[num(0)]), "INT"),
                            ),
                        ),
                    ),
                    default=concat(
                        exp.Left(this=padded.copy(), expression=exp.Sub(this=length(padded), expression=places.copy())),
                        ".",
                        exp.Right(this=padded.copy(), expression=places.copy()),
                    ),
                ),
            ),
        )

    (plain,) = let(coefficient, lambda c: let(shift, lambda s: text(c, s)))
    return exp.cast(concat(sign, plain), decimal_type())


def _money(raw, field, stages):
    """``parse_money``: another currency's code or symbol, a split number, then noise (symbols,
    whitespace, a leading or trailing ISO code) off, parentheses, the '-' zero."""
    digits_bad, digits_message = _digits_problem(raw, "an amount")
    ws = whitespace()
    symbols = V.CURRENCY_SYMBOLS
    comma = field.decimal_mark == ","

    def clean(text):
        # _MONEY_NOISE as steps: its lookarounds look at the stripped text, and a leading and
        # a trailing code never overlap (each needs a non-letter beside it).
        lead = matches(text, "^[A-Z]{3}" + char_class("0123456789" + ws + symbols + "(+,-."))
        trail = matches(text, char_class("0123456789" + ws + ")") + "[A-Z]{3}$")
        start = exp.Add(this=num(1), expression=case((lead, num(3)), default=num(0)))
        size = exp.Sub(
            this=exp.Sub(this=length(text), expression=case((lead.copy(), num(3)), default=num(0))),
            expression=case((trail, num(3)), default=num(0)),
        )
        uncoded = exp.Substring(this=text.copy(), start=start, length=size)
        shape = _money_shape_problems(text, uncoded, raw, field.currency, comma)
        if comma:  # group spaces kept (as '_') while the other spaces and the symbols go
            noise = "".join(c for c in ws if c not in V.GROUP_SPACES) + symbols
            return _loose_group_spaces(remove_chars(_group_spaces(uncoded), noise)), shape
        return remove_chars(uncoded, ws + symbols), shape

    def read(cleaned, shape_problem):
        negative = exp.Like(this=cleaned.copy(), expression=lit("(%)"))
        unwrapped = case(
            (
                negative,
                exp.Substring(
                    this=cleaned.copy(), start=num(2), length=exp.Sub(this=length(cleaned), expression=num(2))
                ),
            ),
            default=cleaned,
        )
        return let(unwrapped, lambda inner: amount(negative, inner, shape_problem))

    def amount(negative, inner, shape_problem):
        zero = exp.EQ(this=inner.copy(), expression=lit("-"))
        bad = exp.or_(exp.EQ(this=inner.copy(), expression=lit("")), exp.and_(negative.copy(), matches(inner, "^[+-]")))
        value, problem = (_comma_number if comma else _number)(inner, raw, "an amount")
        shaped = exp.not_(_is_null(shape_problem))
        problem = case(
            (digits_bad, digits_message),
            (shaped, shape_problem.copy()),
            (zero, _NULL()),
            (bad, concat(quoted(raw), " is not an amount")),
            default=problem,
        )
        value = case(
            (shaped.copy(), _NULL()),
            (zero, exp.cast(num(0), decimal_type())),
            (bad, _NULL()),
            (negative, exp.Neg(this=value.copy())),
            default=value,
        )
        return value, problem

    cleaned, shape_problem = let(strip(raw), clean)
    return let(shape_problem, lambda shape: let(cleaned, lambda c: read(c, shape)))


def _money_shape_problems(text, uncoded, raw, currency: str, comma: bool = False) -> exp.Expr:
    """``parse_money``'s ``_same_currency`` checks on the stripped ``text`` and its split-number
    check on ``uncoded`` (``text`` without its codes), in their order: the first reason, or NULL.
    With a decimal comma, one group space between two digits splits nothing, and a '_' is refused."""
    ws = whitespace()
    own = V.SYMBOL_OF.get(currency, "")
    foreign = "".join(c for c in V.CURRENCY_SYMBOLS if c != own)
    lead_code = exp.Left(this=text.copy(), expression=num(3))
    trail_code = exp.Right(this=text.copy(), expression=num(3))
    lead = exp.and_(
        matches(text, "^[A-Z]{3}" + char_class("0123456789" + ws + V.CURRENCY_SYMBOLS + "(+,-.")),
        exp.NEQ(this=lead_code, expression=lit(currency)),
    )
    trail = exp.and_(
        matches(text, char_class("0123456789" + ws + ")") + "[A-Z]{3}$"),
        exp.NEQ(this=trail_code, expression=lit(currency)),
    )
    symbol = matches(text, char_class(foreign))
    split = matches(uncoded, _split_pattern(comma))
    problems = [
        (lead, concat(quoted(raw), " is in ", lead_code.copy(), f", not {currency}")),
        (trail, concat(quoted(raw), " is in ", trail_code.copy(), f", not {currency}")),
        (
            symbol,
            concat(quoted(raw), " is in ", extract(text, "(" + char_class(foreign) + ")", 1), f", not {currency}"),
        ),
        (split, concat(quoted(raw), " is not an amount (a space or currency sign inside the number)")),
    ]
    if comma:
        problems.append((matches(text, "_"), concat(quoted(raw), " is not an amount")))
    return case(*problems)


def _split_pattern(comma: bool) -> str:
    """``engine.values._SPLIT_NUMBER``, or ``_SPLIT_COMMA_NUMBER`` for a decimal comma, in RE2/Java terms."""
    run = char_class(whitespace() + V.CURRENCY_SYMBOLS)
    if not comma:
        return "(?:" + char_class("0123456789.,eE") + "|[eE][+-])" + run + "+" + char_class("0123456789.,eE+-")
    not_grouping = char_class("".join(c for c in whitespace() if c not in V.GROUP_SPACES) + V.CURRENCY_SYMBOLS)
    return (
        "(?:"
        + char_class(".,eE")
        + "|[eE][+-])"
        + run
        + "+"
        + char_class("0123456789.,eE+-")
        + "|[0-9]"
        + run
        + "+"
        + char_class(".,eE+-")
        + "|[0-9]"
        + run
        + "{2,}[0-9]"
        + "|[0-9]"
        + not_grouping
        + "[0-9]"
    )


def _decimal_field(raw, field, stages):
    digits_bad, digits_message = _digits_problem(raw, "a number")
    if field.decimal_mark == ",":
        underscore = matches(raw, "_")
        value, problem = _comma_number(_group_spaces(strip(raw)), raw, "a number")
        problem = case(
            (digits_bad, digits_message), (underscore, concat(quoted(raw), " is not a number")), default=problem
        )
        return case((underscore.copy(), _NULL()), default=value), problem
    value, problem = _number(strip(raw), raw, "a number")
    return value, case((digits_bad, digits_message), default=problem)


def _integer(raw, field, stages):
    digits_bad, digits_message = _digits_problem(raw, "a whole number")

    def read(number):
        value, problem = number
        fractional = exp.NEQ(this=exp.Floor(this=value.copy()), expression=value.copy())
        problem = case(
            (digits_bad, digits_message), (fractional, concat(quoted(raw), " is not a whole number")), default=problem
        )
        return case((_is_null(problem), exp.cast(value.copy(), "BIGINT"))), problem

    value, problem = _number(strip(raw), raw, "a whole number")
    return let(value, lambda v: read((v, problem)))


def _date(raw, field, stages):
    return dates.read_date(raw, tuple(field.formats))


_READERS = {
    T.STRING: _string,
    T.STAGE: _stage,
    T.BOOL: _bool,
    T.LIST: _list,
    T.MONEY: _money,
    T.DECIMAL: _decimal_field,
    T.INT: _integer,
    T.DATE: _date,
}
