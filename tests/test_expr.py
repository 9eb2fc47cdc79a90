"""The expression language: parse (whitelist), type check, generated code and its semantics."""

import datetime as dt
from decimal import Decimal

import pytest

from engine import expr as E
from engine import types as T
from engine.expr.parse import MAX_DEPTH, MAX_LENGTH

STAGES = ("discovery", "meeting", "proposal", "won")
AS_OF = dt.date(2026, 6, 30)

ENV = E.Environment(
    {
        "a": E.Variable(T.BOOL),
        "b": E.Variable(T.BOOL),
        "c": E.Variable(T.BOOL, nullable=False),
        "n": E.Variable(T.INT),
        "k": E.Variable(T.INT, nullable=False),
        "x": E.Variable(T.DECIMAL),
        "amount": E.Variable(T.MONEY),
        "s": E.Variable(T.STRING),
        "name": E.Variable(T.STRING),
        "d": E.Variable(T.DATE),
        "e": E.Variable(T.DATE),
        "stage": E.Variable(T.STAGE),
        "tags": E.Variable(T.LIST),
        "as_of": E.Variable(T.DATE, nullable=False),
    },
    STAGES,
)


def problems(source, expect=None):
    checked, found = E.check(source, ENV, expect)
    assert (checked is None) == bool(found)
    return [(p.code, p.offset) for p in found]


def problem(source, expect=None):
    checked, found = E.check(source, ENV, expect)
    assert checked is None and len(found) == 1
    return found[0]


def run(source, as_of=AS_OF, **deal):
    """Check, generate and evaluate ``source`` against ``deal`` (missing fields are null)."""
    checked, found = E.check(source, ENV)
    assert not found, found
    names = E.Namespace(STAGES)
    code = E.generate(checked, names)
    scope = dict(E.RUNTIME)
    scope.update(names.constants)
    for name in ENV.variables:
        if name != "as_of":
            scope[E.variable_name(name)] = deal.get(name)
    scope["as_of"] = as_of
    return eval(code, scope)  # generated from a checked expression


# parse: the whitelist


@pytest.mark.parametrize(
    "source",
    [
        "a and b or not c",
        "n + 1 - 2 * 3 / 4 % 5 > -x",
        's in ["a", "b"]',
        "n in (1, 2)",
        "x if a else 1",
        'lower(s) == "x"',
        'stage >= "meeting"',
        "1 < n <= 3",
        "null",
        "true",
        "n is null",
        "n is not None",
        "amount >= 1_000.50",
    ],
)
def test_parse_accepts(source):
    tree, found = E.parse(source)
    assert found == [] and tree is not None


@pytest.mark.parametrize(
    "source,offset,fragment",
    [
        ('name.lower() == "x"', 0, "attribute access"),
        ("s.__class__", 0, "attribute access"),
        ('__import__("os")', 0, "'__import__' is not allowed"),
        ("__builtins__", 0, "'__builtins__' is not allowed"),
        ("a and __debug__", 6, "'__debug__' is not allowed"),
        ("(lambda: 1)()", 0, "only named functions"),
        ("lambda: 1", 0, "lambda"),
        ("[t for t in tags]", 0, "comprehensions"),
        ("{t for t in tags}", 0, "comprehensions"),
        ("any(t for t in tags)", 3, "comprehensions"),
        ('{"a": 1}', 0, "mappings"),
        ("{1, 2}", 0, "sets"),
        ("tags[0]", 0, "indexing"),
        ("n ** 2", 0, "'**'"),
        ("n // 2", 0, "operator is not allowed"),
        ("n << 2", 0, "operator is not allowed"),
        ("~n", 0, "'~'"),
        ("(y := 1)", 1, "':='"),
        ('f"{s}"', 0, "f-strings"),
        ("len(*tags)", 4, "unpacking"),
        ("len(s, key=1)", 11, "keyword arguments"),
        ('b"x" == s', 0, "constant"),
        ("1j == n", 0, "constant"),
        ("... == n", 0, "constant"),
        ("await n", 0, "'await'"),
    ],
)
def test_parse_rejects_forbidden_constructs(source, offset, fragment):
    tree, found = E.parse(source)
    assert tree is None
    (p,) = found
    assert p.code == "DG202"
    assert p.offset == offset
    assert fragment in p.message


@pytest.mark.parametrize(
    "source,offset,fragment",
    [
        ("a ==", 4, "ends too early"),
        ("a and", 5, "ends too early"),
        ("(a", 0, "never closed"),
        ("a b", 2, "invalid syntax"),
        ('"abc', 0, "unterminated string"),
        ("  a  ==", 7, "ends too early"),
    ],
)
def test_syntax_errors_point_at_the_problem(source, offset, fragment):
    tree, (p,) = E.parse(source)
    assert tree is None and p.code == "DG201"
    assert p.offset == offset
    assert fragment in p.message


@pytest.mark.parametrize(
    "source,hint",
    [
        ("a && b", "'and'"),
        ("a = 1", "'=='"),
        ("stage == proposal sent", "quote"),
    ],
)
def test_syntax_hints(source, hint):
    _, (p,) = E.parse(source)
    assert hint in p.hint


def test_empty_too_long_too_deep_nul():
    assert E.parse("")[1][0].message == "empty expression"
    assert E.parse("   ")[1][0].code == "DG201"
    assert "longer than" in E.parse("a or " * (MAX_LENGTH // 4) + "a")[1][0].message
    assert "nested" in E.parse("-" * (MAX_DEPTH + 5) + "n")[1][0].message
    assert "nested" in E.parse("(" * 300 + "n" + ")" * 300)[1][0].message
    assert E.parse("a\x00")[1][0].offset == 1


@pytest.mark.parametrize(
    "source,fragment",
    [
        ("n > 1000000000000000000", "too large"),
        ("n > 1e30", "too large"),
        ("x > 0.000000000000000000001", "decimal places"),
    ],
)
def test_numbers_are_bounded(source, fragment):
    _, (p,) = E.parse(source)
    assert p.code == "DG201" and fragment in p.message


def test_offsets_count_characters_and_survive_line_breaks():
    assert problems('lower("é") == ammount') == [("DG203", 14)]
    assert problems("a and\r\n  ammount") == [("DG203", 9)]  # each break is one character, as in the value
    assert problems("  ammount") == [("DG203", 2)]


def test_literals_keep_exact_decimals():
    tree, _ = E.parse("x == 0.1")
    assert tree.comparators[0].value == Decimal("0.1")
    assert run("0.1 + 0.2 == 0.3") is True
    assert run("0.1 * 3") == Decimal("0.3")
    assert run("1_000.25 + 0") == Decimal("1000.25")
    assert run("1e3 + 0") == 1000


# type checking


@pytest.mark.parametrize(
    "source,expected",
    [
        ("ammount > 1", ("DG203", 0)),
        ('a and naem == "x"', ("DG203", 6)),
        ("foo(n)", ("DG204", 0)),
        ("lenn(s)", ("DG204", 0)),
        ('amount > "10k"', ("DG205", 9)),
        ('"10k" < amount', ("DG205", 0)),
        ('amount > 1 and stage == "meting"', ("DG207", 24)),
        ('stage in ["discovery", "meting"]', ("DG207", 23)),
        ('stage >= "meting"', ("DG207", 9)),
        ("len(s, s)", ("DG208", 0)),
        ("coalesce(n)", ("DG208", 0)),
        ("len(n)", ("DG205", 4)),
        ('"ab" * 3 == s', ("DG205", 0)),
        ("d - e > 3", ("DG205", 0)),
        ('s < "b"', ("DG205", 0)),
        ("a < b", ("DG205", 0)),
        ('tags == ["x"]', ("DG205", 0)),
        ('n in "abc"', ("DG205", 0)),
        ("stage in [1, 2]", ("DG205", 9)),
        ('n in ["a"]', ("DG205", 5)),
        ("n in tags", ("DG205", 0)),
        ("n in n", ("DG205", 5)),
        ("n is 3", ("DG205", 0)),
        ("n > null", ("DG205", 0)),
        ("not n", ("DG205", 4)),
        ("a and n", ("DG205", 6)),
        ('(1 if a else "x") == n', ("DG205", 1)),
        ("(1 if n else 2) == n", ("DG205", 6)),
        ("coalesce(n, s) == n", ("DG205", 12)),
        ("min(n, d) == n", ("DG205", 0)),
        ("date(s) < d", ("DG205", 5)),
        ('date("2026-02-30") < d', ("DG205", 5)),
        ('n in [1, "a"]', ("DG205", 5)),
        ("n in [n]", ("DG205", 6)),
        ("len == 1", ("DG203", 0)),
        ('d > "2026-01-01"', ("DG205", 4)),
    ],
)
def test_type_errors_point_at_the_offending_sub_expression(source, expected):
    assert problems(source, T.BOOL) == [expected]


def test_did_you_mean_for_fields_and_functions():
    assert problem("ammount > 1").hint == "did you mean 'amount'?"
    assert problem("lenn(s) > 1").hint == "did you mean 'len'?"
    assert "functions are:" in problem("frobnicate(s)").hint
    assert problem('stage == "meting"').hint == "did you mean 'meeting'?"


def test_expected_type_of_the_whole_expression():
    p = problem("amount", T.BOOL)
    assert (p.code, p.offset) == ("DG206", 0)
    assert "true/false" in p.message
    assert "compare it" in problem("s", T.BOOL).hint
    assert problem("  amount", T.BOOL).offset == 2
    assert problem("s", T.NUMERIC).code == "DG205"
    assert problems("n + x", T.NUMERIC) == []
    assert problems("null", T.BOOL) == []  # always unknown, but not a type error


@pytest.mark.parametrize(
    "source,type_,nullable",
    [
        ("n + 1", T.INT, True),
        ("k + 1", T.INT, False),
        ("k / 2", T.DECIMAL, True),
        ("k * amount", T.MONEY, True),
        ("amount - 1", T.MONEY, True),
        ("x + k", T.DECIMAL, True),
        ("c and k > 1", T.BOOL, False),
        ("n == null", T.BOOL, False),
        ("coalesce(n, 0)", T.INT, False),
        ("coalesce(n, 0.5)", T.DECIMAL, False),
        ("coalesce(amount, n, 0)", T.MONEY, False),
        ("coalesce(n, k)", T.INT, False),
        ("coalesce(n, x)", T.DECIMAL, True),
        ("len(s)", T.INT, True),
        ("days_since(d)", T.INT, True),
        ("days_between(as_of, as_of)", T.INT, False),
        ("min(k, 2.5)", T.DECIMAL, False),
        ("max(d, e)", T.DATE, True),
        ("round(amount, 2)", T.DECIMAL, True),
        ("abs(amount)", T.MONEY, True),
        ('date("2026-01-01")', T.DATE, False),
        ("1 if c else 2", T.INT, False),
        ("1 if a else 2", T.INT, True),
        ("k if c else null", T.INT, True),
        ("k if c else 2.5", T.DECIMAL, False),
        ('s + "x"', T.STRING, True),
        ("lower(s)", T.STRING, True),
        ('contains(tags, "x")', T.BOOL, True),
    ],
)
def test_types_and_nullability(source, type_, nullable):
    checked, found = E.check(source, ENV)
    assert found == []
    assert (checked.type, checked.nullable) == (type_, nullable)


def test_needed_fields_exclude_null_tests_and_coalesce():
    checked, _ = E.check("n > 1 and s != null and coalesce(x, 0) > 0 and (b if a else c)", ENV)
    assert checked.fields == {"n", "s", "x", "a", "b", "c"}
    assert checked.needed == {"n", "a", "b"}  # c is never null; s and x are only null-tested / coalesced


def test_a_coalesce_that_can_be_null_needs_all_its_arguments():
    """coalesce(n, x) is null only when both are: then both explain a 'missing' result."""
    checked, _ = E.check("coalesce(n, x) > 0", ENV)
    assert checked.needed == {"n", "x"}
    checked, _ = E.check("not coalesce(a, b)", ENV)
    assert checked.needed == {"a", "b"}
    checked, _ = E.check("coalesce(n, k) > 0 and coalesce(a == null, b)", ENV)
    assert checked.needed == set()  # neither coalesce can be null: k is never null, nor is a == null


def test_as_of_is_a_builtin():
    assert problems("d < as_of", T.BOOL) == []
    assert run("days_between(d, as_of)", d=dt.date(2026, 6, 1)) == 29


# evaluation: null semantics


K = [True, False, None]


def kleene_and(p, q):
    if p is False or q is False:
        return False
    if p is None or q is None:
        return None
    return True


def kleene_or(p, q):
    if p is True or q is True:
        return True
    if p is None or q is None:
        return None
    return False


@pytest.mark.parametrize("p", K)
@pytest.mark.parametrize("q", K)
def test_kleene_logic(p, q):
    assert run("a and b", a=p, b=q) is kleene_and(p, q)
    assert run("a or b", a=p, b=q) is kleene_or(p, q)
    assert run("not a", a=p) is (None if p is None else not p)


@pytest.mark.parametrize("p", K)
@pytest.mark.parametrize("q", K)
@pytest.mark.parametrize("r", K)
def test_kleene_logic_with_three_operands(p, q, r):
    assert run("a and b and c", a=p, b=q, c=r if r is not None else True) is kleene_and(
        kleene_and(p, q), r if r is not None else True
    )
    assert run("a or b or (n > 0)", a=p, b=q, n=None if r is None else (1 if r else 0)) is kleene_or(kleene_or(p, q), r)


@pytest.mark.parametrize(
    "source",
    [
        "n > 3",
        "n == 3",
        "n != 3",
        "3 < n",
        "n in [1, 2]",
        "n not in [1]",
        's == "x"',
        's in "abc"',
        'stage >= "meeting"',
        "d < as_of",
        "1 < n < 5",
    ],
)
def test_comparisons_with_null_are_null(source):
    assert run(source) is None


def test_null_tests():
    assert run("n == null") is True and run("n != null") is False
    assert run("null == n", n=1) is False and run("n is not null", n=1) is True
    assert run("null == null") is True


def test_chained_comparison_decided_by_a_false_part():
    assert run("5 < n < 3", n=None) is None
    assert run("n < 3 < 2", n=None) is False  # 3 < 2 is false whatever n is
    assert run("1 < n < 3", n=2) is True


def test_arithmetic_with_null_is_null():
    for source in ["n + 1", "1 - n", "n * 2", "-n", "amount / 2", "amount % 2", 's + "x"']:
        assert run(source) is None, source


def test_if_with_an_unknown_condition_is_unknown():
    assert run("1 if a else 2", a=None) is None
    assert run("1 if a else 2", a=False) == 2
    assert run("(n > 1) if a else false", a=None, n=5) is None


def test_division_and_remainder_by_zero_are_null():
    assert run("amount / 0", amount=Decimal(5)) is None
    assert run("amount / n", amount=Decimal(5), n=0) is None
    assert run("amount % 0", amount=Decimal(5)) is None
    assert run("k % 0", k=5) is None
    assert run("k / 4", k=1) == Decimal("0.25")
    assert run("1 / 3 * 3 == 1") is False  # Decimal, not float: 0.999...9, never a crash


def test_remainder_takes_the_sign_of_the_left_operand_for_all_numbers():
    assert run("k % 7", k=-3) == -3
    assert run("x % 7", x=Decimal(-3)) == -3
    assert run("k % -7", k=3) == 3
    assert run("x % 0.00000000000000000001", x=Decimal("123456789012345.5")) == 0


def test_stage_ordering_follows_the_pipeline():
    assert run('stage >= "meeting"', stage="proposal") is True
    assert run('stage >= "meeting"', stage="meeting") is True
    assert run('stage >= "meeting"', stage="discovery") is False
    assert run('stage < "won"', stage="discovery") is True
    assert run('"meeting" < stage', stage="won") is True
    assert run('stage == "won"', stage="won") is True
    assert run('stage in ["meeting", "won"]', stage="won") is True


def test_decimal_arithmetic_is_exact():
    assert run("amount * 0.1", amount=Decimal("12345.67")) == Decimal("1234.567")
    assert run("amount + 0.01", amount=Decimal("0.02")) == Decimal("0.03")
    result = run("amount * 3", amount=Decimal("0.1"))
    assert isinstance(result, Decimal) and result == Decimal("0.3")


def test_lists_with_negative_numbers():
    assert run("n in [-1, 2]", n=-1) is True
    assert run("n in [-1, 2]", n=1) is False
    assert run("x in [-1.5]", x=Decimal("-1.5")) is True


# evaluation: every function


D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "source,deal,expected",
    [
        ("len(s)", {"s": "abc"}, 3),
        ("len(tags)", {"tags": ("a", "b")}, 2),
        ("lower(s)", {"s": "AbC"}, "abc"),
        ("upper(s)", {"s": "AbC"}, "ABC"),
        ("trim(s)", {"s": "  a b "}, "a b"),
        ('contains(s, "BC")', {"s": "abcd"}, True),
        ('contains(s, "x")', {"s": "abcd"}, False),
        ('contains(tags, "b")', {"tags": ("a", "b")}, True),
        ('contains(tags, "B")', {"tags": ("a", "b")}, False),
        ('startswith(s, "ab")', {"s": "abc"}, True),
        ('startswith(s, "AB")', {"s": "abc"}, False),
        ('endswith(s, "bc")', {"s": "abc"}, True),
        ('endswith(s, "b")', {"s": "abc"}, False),
        ("coalesce(n, 7)", {}, 7),
        ("coalesce(n, 7)", {"n": 0}, 0),
        ("coalesce(n, k, 9)", {"k": 4}, 4),
        ("min(n, 2)", {"n": 5}, 2),
        ("min(x, 2, 1.5)", {"x": Decimal(3)}, Decimal("1.5")),
        ("min(d, e)", {"d": D1, "e": D2}, D1),
        ("max(n, 2)", {"n": 5}, 5),
        ("max(d, e)", {"d": D1, "e": D2}, D2),
        ("abs(amount)", {"amount": Decimal("-3.5")}, Decimal("3.5")),
        ("abs(n)", {"n": -2}, 2),
        ("round(x)", {"x": Decimal("2.5")}, Decimal("3")),
        ("round(x)", {"x": Decimal("-2.5")}, Decimal("-3")),
        ("round(x, 2)", {"x": Decimal("1.005")}, Decimal("1.01")),
        ("round(n, 1)", {"n": 2}, Decimal("2.0")),
        ("round(x, -2)", {"x": Decimal("1250")}, Decimal("1300")),
        ("round(x, 30)", {"x": Decimal("123456.5")}, Decimal("123456.5")),
        ("round(x, 1000)", {"x": Decimal("1.25")}, Decimal("1.25")),
        ("round(x, k)", {"x": Decimal("1.25"), "k": -1000}, Decimal(0)),
        ("days_between(d, e)", {"d": D1, "e": D2}, 59),
        ("days_between(e, d)", {"d": D1, "e": D2}, -59),
        ("days_since(d)", {"d": D1}, 180),
        ('date("2026-02-28")', {}, dt.date(2026, 2, 28)),
        ("year(d)", {"d": D2}, 2026),
        ("month(d)", {"d": D2}, 3),
        ("quarter(d)", {"d": dt.date(2026, 3, 31)}, 1),
        ("quarter(d)", {"d": dt.date(2026, 4, 1)}, 2),
        ("quarter(d)", {"d": dt.date(2026, 12, 31)}, 4),
    ],
)
def test_functions(source, deal, expected):
    result = run(source, **deal)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("name", sorted(E.FUNCTIONS))
def test_every_function_is_null_in_null_out_except_coalesce(name):
    function = E.FUNCTIONS[name]
    implementation = E.RUNTIME[f"fn_{name}"]
    assert implementation is function.python
    arity = function.min_args if function.min_args is not None else len(function.params)
    args = [None] * arity + ([AS_OF] if function.needs_as_of else [])
    assert implementation(*args) is None


def test_every_function_is_tested_above():
    tested = {
        "len",
        "lower",
        "upper",
        "trim",
        "contains",
        "startswith",
        "endswith",
        "coalesce",
        "min",
        "max",
        "abs",
        "round",
        "days_between",
        "days_since",
        "date",
        "year",
        "month",
        "quarter",
    }
    assert tested == set(E.FUNCTIONS)


def test_days_since_counts_to_the_as_of_date_passed_in():
    assert run("days_since(d)", as_of=dt.date(2026, 1, 11), d=D1) == 10


def test_date_literals_become_constants():
    checked, _ = E.check('d < date("2026-07-01")', ENV)
    names = E.Namespace(STAGES)
    code = E.generate(checked, names)
    assert "fn_date" not in code
    assert dt.date(2026, 7, 1) in names.constants.values()


def test_non_null_operands_get_plain_operators():
    checked, _ = E.check("k > 1 and c", ENV)
    code = E.generate(checked, E.Namespace(STAGES))
    assert "None" not in code
