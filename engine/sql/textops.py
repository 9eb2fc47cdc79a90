"""Building blocks for reading text in SQL exactly as Python does, as sqlglot trees.

Python's ``str.strip()``, ``str.isspace()``, ``str.lower()`` and its regex ``\\s`` and
IGNORECASE are Unicode-aware; SQL's TRIM, LOWER and regex classes differ per engine
(RE2 in DuckDB, java.util.regex in Spark). So nothing here relies on an engine's idea of
whitespace or case: the character sets are computed from Python itself and written out
as explicit regex classes, escaped as ``\\x{HEX}`` (read alike by RE2 and Java).

Regexes are only ever applied to text already stripped of Python whitespace, so ``$``
means the end of the text in every engine (Java's ``$`` also matches before a final line
terminator, but every line terminator is whitespace and has been stripped).

Every helper returns a new tree and copies the expressions it is given, so the same
expression may be passed to several helpers (sqlglot nodes have a single parent).
"""

from __future__ import annotations

import functools
import itertools
import re
import string
import sys

from sqlglot import exp

from ..expr.sqlfunctions import (
    PY_WHITESPACE,
    Unsupported,
)

MESSAGE_LIMIT = 60  # engine.values._q
ELLIPSIS = "…"
_PLAIN = frozenset(string.ascii_letters + string.digits)
_PUNCTUATION = frozenset(string.punctuation)


# character sets, from Python


def whitespace() -> str:
    """Every character ``str.isspace()`` (and so ``strip()`` and regex ``\\s``) treats as whitespace."""
    return PY_WHITESPACE  # computed once, for the expression functions too


@functools.cache
def non_ascii_digits() -> str:
    """The decimal digits other than 0-9 (what Python's ``\\d``, ``int()`` and ``Decimal()`` read)."""
    return "".join(c for c in map(chr, range(128, sys.maxunicode + 1)) if c.isdecimal())


# No character from here on has a case mapping (a test checks it on every Python run): the
# case tables below enumerate only the code points before it.
CASED_LIMIT = 0x1F000


def _cased() -> list:
    """The characters some case mapping (str.lower/upper/casefold, or sre's lower) changes."""
    import _sre  # type: ignore[import-not-found]  # CPython's regex engine: has no stubs

    return [
        c
        for c in map(chr, range(CASED_LIMIT))
        if c.lower() != c or c.upper() != c or c.casefold() != c or _sre.unicode_tolower(ord(c)) != ord(c)
    ]


@functools.cache
def _lower_table() -> tuple[dict, dict]:
    """(single, multi): lower-case character (or text) -> the cased characters whose ``str.lower()`` it is."""
    single: dict[str, list] = {}
    multi: dict[str, list] = {}
    for c in _cased():
        low = c.lower()
        (single if len(low) == 1 else multi).setdefault(low, []).append(c)
    return single, multi


def lowering_to(char: str) -> str:
    """Every character whose ``str.lower()`` is ``char``: itself if lower case, and the cased ones."""
    own = char if char.lower() == char else ""
    return own + "".join(_lower_table()[0].get(char, ()))


@functools.cache
def _case_index() -> dict[tuple, list]:
    """Every character under its case keys (lower, upper, case fold, sre's lower): IGNORECASE candidates."""
    import _sre

    index: dict[tuple, list] = {}
    for char in _cased():
        for key in _case_keys(char, _sre.unicode_tolower(ord(char))):
            index.setdefault(key, []).append(char)
    return index


def _case_keys(char: str, sre_lower: int) -> tuple:
    return (("lower", char.lower()), ("upper", char.upper()), ("fold", char.casefold()), ("sre", sre_lower))


@functools.cache
def ignorecase_chars(char: str) -> str:
    """The characters a Python regex compiled with IGNORECASE matches for the literal ``char``.

    Candidates share a case mapping with ``char`` (so the Turkish dotless i, the long s and
    the Kelvin sign are among them); each is confirmed by Python's own regex engine, so the
    set is Python's.
    """
    import _sre

    pattern = re.compile(re.escape(char), re.IGNORECASE)
    index = _case_index()
    candidates = {char}
    for key in _case_keys(char, _sre.unicode_tolower(ord(char))):
        candidates.update(index.get(key, ()))
    return "".join(sorted(c for c in candidates if pattern.fullmatch(c)))


# regex text


def escape_char(char: str) -> str:
    """One character for a regex (inside or outside a class), read alike by RE2 and Java."""
    if char in _PLAIN:
        return char
    if char in _PUNCTUATION:
        return "\\" + char
    return f"\\x{{{ord(char):X}}}"


def char_class(chars: str, negate: bool = False) -> str:
    """A regex class holding exactly ``chars``, with runs of code points written as ranges."""
    codes = sorted(set(map(ord, chars)))
    if not codes:
        raise ValueError("an empty character class matches nothing")
    parts = []
    start = previous = codes[0]
    for code in codes[1:] + [None]:
        if code is not None and code == previous + 1:
            previous = code
            continue
        first, last = escape_char(chr(start)), escape_char(chr(previous))
        parts.append(first if start == previous else f"{first}-{last}" if previous > start + 1 else first + last)
        if code is not None:
            start = previous = code
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def one_of(chars: str) -> str:
    """A regex matching one of ``chars``: the character itself when there is only one."""
    return escape_char(chars) if len(chars) == 1 else char_class(chars)


def lower_equals(word: str) -> str:
    """A regex matching exactly the texts whose Python ``str.lower()`` is ``word``.

    ``str.lower()`` maps characters one by one, except 'İ' (to two characters) and the
    Greek capital sigma (to 'ς' or 'σ' by its neighbours): a word holding 'ς' or 'σ' is
    refused rather than guessed.
    """
    if "σ" in word or "ς" in word:
        raise Unsupported(f"the Greek letter sigma in {word!r} (its lower case depends on its position)")
    multi = _lower_table()[1]
    parts = []
    position = 0
    while position < len(word):
        lowered = next((low for low in multi if word.startswith(low, position)), None)
        if lowered is not None:  # 'i̇' is 'İ', or an i and a combining dot each written apart
            alternatives = [one_of("".join(multi[lowered]))]
            if all(lowering_to(c) for c in lowered):
                alternatives.append("".join(one_of(lowering_to(c)) for c in lowered))
            parts.append("(?:" + "|".join(alternatives) + ")")
            position += len(lowered)
            continue
        char = word[position]
        sources = lowering_to(char)
        if not sources:
            raise Unsupported(f"{char!r} in {word!r} (no text lower-cases to it)")
        parts.append(one_of(sources))
        position += 1
    return "".join(parts)


# expressions


def lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def num(value: int) -> exp.Expr:
    return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))


def matches(text: exp.Expr, pattern: str) -> exp.Expr:
    """Whether the regex ``pattern`` is found in ``text`` (anchor it with ^ and $ to match all)."""
    return exp.RegexpLike(this=text.copy(), expression=lit(pattern))


def extract(text: exp.Expr, pattern: str, group: int) -> exp.Expr:
    """Group ``group`` of the first match of ``pattern`` in ``text``; '' when it does not match."""
    return exp.RegexpExtract(this=text.copy(), expression=lit(pattern), group=exp.Literal.number(group))


def strip(text: exp.Expr) -> exp.Expr:
    """Python's ``text.strip()``."""
    return exp.Trim(this=text.copy(), expression=lit(whitespace()))


def is_blank(raw: exp.Expr) -> exp.Expr:
    """Python's ``not text or text.isspace()``, with NULL (an absent cell) blank too."""
    return exp.or_(exp.Is(this=raw.copy(), expression=exp.Null()), exp.EQ(this=strip(raw), expression=lit("")))


def remove_chars(text: exp.Expr, chars: str) -> exp.Expr:
    """``text`` without any of ``chars`` (TRANSLATE with nothing to translate to)."""
    return exp.Translate(this=text.copy(), from_=lit(chars), to=lit(""))


def concat(*parts) -> exp.Expr:
    """Texts and expressions joined; every part is non-null where this is used."""
    nodes = [lit(p) if isinstance(p, str) else p.copy() for p in parts]
    return exp.Concat(expressions=nodes, safe=True)


def case(*whens, default: exp.Expr | None = None) -> exp.Expr:
    """CASE WHEN c1 THEN v1 ... [ELSE default] END from (condition, value) pairs."""
    node = exp.Case()
    for condition, value in whens:
        node = node.when(condition.copy(), value.copy(), copy=False)
    if default is not None:
        node = node.else_(default.copy(), copy=False)
    return node


def length(text: exp.Expr) -> exp.Expr:
    return exp.Length(this=text.copy())


def quoted(text: exp.Expr) -> exp.Expr:
    """``engine.values._q(text)``: in quotes, cut at 60 characters with '…', CR LF TAB escaped."""
    cut = case(
        (
            exp.GT(this=length(text), expression=num(MESSAGE_LIMIT)),
            concat(exp.Left(this=text.copy(), expression=num(MESSAGE_LIMIT)), ELLIPSIS),
        ),
        default=text,
    )
    for char, shown in (("\r", "\\r"), ("\n", "\\n"), ("\t", "\\t")):
        cut = exp.Replace(this=cut, expression=lit(char), replacement=lit(shown))
    return concat("'", cut, "'")


# bindings

_names = itertools.count(1)


def let(value: exp.Expr, body) -> tuple:
    """``body(v)`` (a tuple of expressions) with ``v`` bound once to ``value``, for each expression.

    SQL has no LET inside an expression; a one-element array mapped through a lambda is one
    (``LIST_TRANSFORM([value], v -> ...)[1]`` in DuckDB, ``TRANSFORM(ARRAY(value), v -> ...)[0]``
    in Spark). Without it, a value used several times would be copied into the tree as
    often, and readers that build on each other grow the SQL multiplicatively.
    """
    name = exp.to_identifier(f"__v{next(_names)}")
    results = body(name.copy())
    return tuple(_bound(value, name, result) for result in results)


def _bound(value: exp.Expr, name: exp.Identifier, result: exp.Expr) -> exp.Expr:
    if not any(isinstance(node, exp.Identifier) and node.this == name.this for node in result.walk()):
        return result  # the binding is not used here
    mapped = exp.Transform(
        this=exp.Array(expressions=[value.copy()]), expression=exp.Lambda(this=result, expressions=[name.copy()])
    )
    return exp.Bracket(this=mapped, expressions=[exp.Literal.number(0)])


def renumber(tree: exp.Expr) -> exp.Expr:
    """The same tree with its bound names numbered from 1 in order, so the SQL printed is stable."""
    mapping: dict[str, str] = {}
    for node in tree.walk():
        if isinstance(node, exp.Lambda):
            for name in node.expressions:
                mapping.setdefault(name.this, f"__v{len(mapping) + 1}")
    for node in tree.walk():
        if isinstance(node, exp.Identifier) and node.this in mapping:
            node.set("this", mapping[node.this])
    return tree
