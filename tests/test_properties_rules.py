"""Properties of the rule-pack foundation, with Hypothesis.

- the expression compiler takes any text: it compiles it or says why, and never raises;
- well-typed expressions evaluate on any deal (nulls included) without raising, give a value
  of their checked type, and the fast "condition" code agrees with the full value;
- the loader takes any bytes or text and returns diagnostics, never an exception;
- so does the whole chain (load, check, model, semantics) on arbitrary and near-valid packs;
- a pipeline rendered with yaml.safe_dump loads back to the same model, and every character of
  its strings is located where the dump wrote it.
"""

import datetime as dt
import string
from decimal import Decimal
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import expr as E
from engine import types as T
from engine.check import check_document
from engine.diagnostics import Diagnostic
from engine.expr.interpret import evaluate as interpret
from engine.load import _Resolver, load_file, load_text
from engine.model import build_pack
from engine.pack import read_pack
from engine.semantics import analyse

STAGES = ("discovery", "meeting", "proposal", "won")
AS_OF = dt.date(2026, 6, 30)

FIELDS = {
    # name: (type, nullable)
    "a": (T.BOOL, True),
    "c": (T.BOOL, False),
    "n": (T.INT, True),
    "k": (T.INT, False),
    "x": (T.DECIMAL, True),
    "amount": (T.MONEY, True),
    "quota": (T.MONEY, False),
    "s": (T.STRING, True),
    "name": (T.STRING, False),
    "d": (T.DATE, True),
    "e": (T.DATE, False),
    "stage": (T.STAGE, True),
    "tags": (T.LIST, True),
}
ENV = E.Environment(
    {**{n: E.Variable(t, nullable) for n, (t, nullable) in FIELDS.items()}, "as_of": E.Variable(T.DATE, False)},
    STAGES,
)
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=150)

# --- strategies: expressions ----------------------------------------------------------------------

names = st.sampled_from([*FIELDS, "as_of", "ammount", "foo", "__import__", "null", "true", "None", "lambda"])
functions = st.sampled_from([*E.FUNCTIONS, "eval", "open", "getattr", "__import__"])
literals = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.text(max_size=5).map(repr),
    st.sampled_from(["null", "true", "false", "1e30", "0.1", '"meeting"', '"meting"', '"2026-01-31"']),
)
binary = st.sampled_from(
    [
        "and",
        "or",
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "//",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "not in",
        "is",
        "is not",
        "&",
        "|",
        "<<",
    ]
)


def _combine(children):
    return st.one_of(
        st.tuples(children, binary, children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"not {c}"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"({c})"),
        st.tuples(functions, st.lists(children, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(children, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
        st.tuples(children, st.sampled_from(["lower", "__class__", "x"])).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        children.map(lambda c: f"[t for t in {c}]"),
        children.map(lambda c: f"lambda: {c}"),
    )


grammar = st.recursive(st.one_of(names, literals), _combine, max_leaves=12)


def typed(type_: str, depth: int = 3):
    """Source text of a well-typed expression of ``type_``."""
    if type_ == T.BOOL:
        leaves = st.sampled_from(
            [
                "a",
                "c",
                "true",
                "false",
                "null",
                "s == null",
                "amount != null",
                'stage >= "meeting"',
                'stage in ["discovery", "won"]',
                '"x" in tags',
                "tags == null",
                'lower(name) in ["a", "b"]',
            ]
        )
    elif type_ == "num":
        leaves = st.one_of(
            st.sampled_from(
                [
                    "n",
                    "k",
                    "x",
                    "amount",
                    "quota",
                    "len(s)",
                    "len(tags)",
                    "days_since(d)",
                    "days_between(d, e)",
                    "year(e)",
                    "month(d)",
                    "quarter(e)",
                ]
            ),
            st.integers(-1000, 1000).map(str),
            st.decimals(-1000, 1000, places=2, allow_nan=False).map(str),
        )
    elif type_ == T.STRING:
        leaves = st.one_of(st.sampled_from(["s", "name"]), st.text(string.ascii_letters, max_size=4).map(repr))
    else:  # date
        leaves = st.sampled_from(["d", "e", "as_of", 'date("2026-02-28")'])
    if depth == 0:
        return leaves
    sub = {t: typed(t, depth - 1) for t in (T.BOOL, "num", T.STRING, T.DATE)}
    if type_ == T.BOOL:
        composite = st.one_of(
            st.tuples(sub[T.BOOL], st.sampled_from(["and", "or"]), sub[T.BOOL]).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            sub[T.BOOL].map(lambda b: f"(not {b})"),
            st.tuples(sub["num"], st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), sub["num"]).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(sub["num"], st.sampled_from(["<", "<"]), sub["num"], sub["num"]).map(
                lambda t: f"({t[0]} {t[1]} {t[2]} {t[1]} {t[3]})"
            ),
            st.tuples(sub[T.DATE], st.sampled_from(["<", ">=", "=="]), sub[T.DATE]).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(sub[T.STRING], sub[T.STRING]).map(lambda t: f"({t[0]} == {t[1]})"),
            st.tuples(sub[T.STRING], sub[T.STRING]).map(lambda t: f"contains({t[0]}, {t[1]})"),
            st.tuples(sub[T.STRING], sub[T.STRING]).map(lambda t: f"startswith({t[0]}, {t[1]})"),
            st.tuples(sub[T.BOOL], sub[T.BOOL], sub[T.BOOL]).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(sub[T.BOOL], sub[T.BOOL]).map(lambda t: f"coalesce({t[0]}, {t[1]})"),
        )
    elif type_ == "num":
        composite = st.one_of(
            st.tuples(sub["num"], st.sampled_from(["+", "-", "*", "/", "%"]), sub["num"]).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            sub["num"].map(lambda v: f"(-{v})"),
            sub["num"].map(lambda v: f"abs({v})"),
            st.tuples(sub["num"], st.integers(-30, 30)).map(lambda t: f"round({t[0]}, {t[1]})"),
            st.tuples(sub["num"], sub["num"]).map(lambda t: f"round({t[0]}, k)"),
            st.tuples(sub["num"], sub["num"]).map(lambda t: f"coalesce({t[0]}, {t[1]}, 0)"),
            st.tuples(st.sampled_from(["min", "max"]), sub["num"], sub["num"]).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(sub["num"], sub[T.BOOL], sub["num"]).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            sub[T.STRING].map(lambda v: f"len({v})"),
            st.tuples(sub[T.DATE], sub[T.DATE]).map(lambda t: f"days_between({t[0]}, {t[1]})"),
        )
    elif type_ == T.STRING:
        composite = st.one_of(
            st.tuples(sub[T.STRING], sub[T.STRING]).map(lambda t: f"({t[0]} + {t[1]})"),
            st.tuples(st.sampled_from(["lower", "upper", "trim"]), sub[T.STRING]).map(lambda t: f"{t[0]}({t[1]})"),
            sub[T.STRING].map(lambda v: f'coalesce({v}, "none")'),
        )
    else:
        composite = st.one_of(
            st.tuples(st.sampled_from(["min", "max"]), sub[T.DATE], sub[T.DATE]).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            sub[T.DATE].map(lambda v: f"coalesce({v}, as_of)"),
        )
    return st.one_of(leaves, composite)


def value_of(type_: str):
    if type_ == T.BOOL:
        return st.booleans()
    if type_ == T.INT:
        return st.integers(-(10**9), 10**9)
    if type_ == T.DECIMAL:
        return st.decimals(-(10**6), 10**6, places=6, allow_nan=False)
    if type_ == T.MONEY:
        return st.decimals(-(10**15) + 1, 10**15 - 1, places=2, allow_nan=False)
    if type_ == T.STRING:
        return st.text(max_size=8)
    if type_ == T.DATE:
        return st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
    if type_ == T.STAGE:
        return st.sampled_from(STAGES)
    return st.lists(st.text(max_size=3), max_size=3).map(tuple)


@st.composite
def deals(draw):
    """A typed deal as scoring receives it: nullable fields may be null, the others never are."""
    deal = {}
    for name, (type_, nullable) in FIELDS.items():
        strategy = value_of(type_)
        deal[name] = draw(st.one_of(st.none(), strategy) if nullable else strategy)
    return deal


def evaluate(code: str, names: E.Namespace, deal: dict, as_of: dt.date):
    scope = dict(E.RUNTIME)
    scope.update(names.constants)
    for name, value in deal.items():
        scope[E.variable_name(name)] = value
    scope["as_of"] = as_of
    return eval(code, scope)  # generated from a checked expression


# --- the expression compiler never raises ---------------------------------------------------------


def compiles_or_explains(source: str, expect) -> None:
    checked, problems = E.check(source, ENV, expect)
    assert (checked is None) == bool(problems)
    for problem in problems:
        assert problem.code.startswith("DG2") and problem.message
        assert 0 <= problem.offset <= max(len(source), 1)
    if checked is not None:
        code = E.generate(checked, E.Namespace(STAGES))
        compile(code, "<expr>", "eval")  # generated code is always valid Python


@SLOW
@given(st.text(max_size=200), st.sampled_from([None, T.BOOL, T.NUMERIC, T.STRING]))
def test_any_text_compiles_or_gets_a_diagnostic(source, expect):
    compiles_or_explains(source, expect)


@SLOW
@given(grammar, st.sampled_from([None, T.BOOL, T.NUMERIC]))
def test_any_expression_shaped_text_compiles_or_gets_a_diagnostic(source, expect):
    compiles_or_explains(source, expect)


@SLOW
@given(grammar)
def test_offsets_survive_leading_space_and_line_breaks(source):
    """The same expression indented or split over lines reports the same problem, shifted."""
    _, plain = E.check(source, ENV, T.BOOL)
    _, shifted = E.check("   " + source, ENV, T.BOOL)
    assert [(p.code, p.message) for p in plain] == [(p.code, p.message) for p in shifted]
    assert [p.offset + 3 for p in plain] == [p.offset for p in shifted]


# --- well-typed expressions evaluate without raising ----------------------------------------------


TYPE_CHECKS = {
    T.BOOL: lambda v: isinstance(v, bool),
    T.INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    T.DECIMAL: lambda v: isinstance(v, (int, Decimal)) and not isinstance(v, bool),
    T.MONEY: lambda v: isinstance(v, (int, Decimal)) and not isinstance(v, bool),
    T.STRING: lambda v: isinstance(v, str),
    T.DATE: lambda v: isinstance(v, dt.date),
    T.NULL: lambda v: v is None,
}


@SLOW
@given(
    st.sampled_from([T.BOOL, "num", T.STRING, T.DATE]).flatmap(lambda t: typed(t)),
    deals(),
    st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)),
)
def test_well_typed_expressions_evaluate_on_any_deal(source, deal, as_of):
    checked, problems = E.check(source, ENV)
    assert problems == [], (source, problems)
    names = E.Namespace(STAGES)
    value = evaluate(E.generate(checked, names), names, deal, as_of)
    if value is None:
        assert checked.nullable or checked.type == T.NULL, source
    else:
        assert TYPE_CHECKS[checked.type](value), (source, checked.type, value)
    if checked.type == T.BOOL:
        condition = evaluate(E.generate_condition(checked, names), names, deal, as_of)
        assert bool(condition) is (value is True), source


@SLOW
@given(typed(T.BOOL), deals())
def test_an_unknown_result_comes_from_a_needed_null(source, deal):
    """'missing <field>' must always be explainable: null only when a needed field is null."""
    checked, _ = E.check(source, ENV)
    names = E.Namespace(STAGES)
    value = evaluate(E.generate(checked, names), names, deal, AS_OF)
    literal_null = "null" in source.replace("== null", "").replace("!= null", "")
    divides = "/" in source or "%" in source  # by zero gives null with no null field (docs/expressions.md)
    if value is None and not literal_null and not divides:
        assert any(deal.get(name) is None for name in checked.needed), (source, checked.needed)


# --- the compiled code agrees with a plain interpreter of the same tree ---------------------------


@SLOW
@given(
    st.sampled_from([T.BOOL, "num", T.STRING, T.DATE]).flatmap(lambda t: typed(t)),
    deals(),
    st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)),
)
def test_compiled_code_agrees_with_a_tree_walking_interpreter(source, deal, as_of):
    checked, problems = E.check(source, ENV)
    assert problems == [], (source, problems)
    names = E.Namespace(STAGES)
    compiled = evaluate(E.generate(checked, names), names, deal, as_of)
    walked = interpret(checked.ir, deal, as_of, STAGES)  # the reference semantics
    assert (
        compiled == walked
        and type(compiled) is type(walked)
        or (isinstance(compiled, (int, Decimal)) and isinstance(walked, (int, Decimal)) and compiled == walked)
    ), (source, compiled, walked)


# --- the loader never raises ----------------------------------------------------------------------


def only_diagnostics(result) -> None:
    assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
    for d in result.diagnostics:
        assert d.code.startswith("DG0") and d.message and d.line >= 0 and d.column >= 0


yamlish = st.lists(
    st.sampled_from(
        [
            "kind: fields\n",
            "kind: pipeline\n",
            "stages:\n",
            "- ",
            "  ",
            ": ",
            "a",
            "1",
            "0.5",
            "&a ",
            "*a ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "\t",
            "'",
            '"',
            "\\",
            "#",
            "---\n",
            "...\n",
            "!!set ",
            "!!python/object ",
            "\n",
            "0x",
            "0b_",
            ".inf",
            "|\n",
            ">-\n",
            "? ",
            "%YAML 1.2\n",
            "\x85",
            "\u2028",
            "\x07",
            "\ufeff",
            "é",
            "~",
            "<<: *a\n",
        ]
    ),
    max_size=60,
).map("".join)


@SLOW
@given(st.one_of(st.text(max_size=300), yamlish))
def test_load_text_never_raises(text):
    result = load_text(text, "x.yaml")
    only_diagnostics(result)
    for document in result.documents:
        check_document(document)  # the schema check takes whatever the loader built


@SLOW
@given(st.binary(max_size=300))
def test_load_file_never_raises_on_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "x.yaml"
    path.write_bytes(data)
    only_diagnostics(load_file(path, "x.yaml"))


# --- nor does the whole chain, on arbitrary and near-valid packs -----------------------------------


ids = st.sampled_from(["discovery", "meeting", "won", "lost", "budget", "x", "Bad-Id", "discovery"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(-2, 2, allow_nan=False), st.text(max_size=6), ids
)


def near(mapping):
    """A mapping strategy that sometimes drops keys or adds junk, to reach every stage of checking."""
    return st.tuples(
        mapping,
        st.dictionaries(st.sampled_from(["junk", "probabilty", "when"]), scalars, max_size=1),
        st.sets(st.sampled_from(["id", "when", "probability", "type"]), max_size=1),
    ).map(lambda t: {k: v for k, v in {**t[0], **t[1]}.items() if k not in t[2]})


field_specs = near(
    st.fixed_dictionaries(
        {"type": st.sampled_from([*T.FIELD_TYPES, "mony"])},
        optional={"required": st.booleans(), "default": scalars, "compute": st.one_of(grammar, typed("num", 1))},
    )
)
fields_doc = st.fixed_dictionaries(
    {
        "kind": st.just("fields"),
        "fields": st.dictionaries(st.sampled_from([*FIELDS, "id", "as_of", "null", "Bad"]), field_specs, min_size=1),
    },
    optional={"stage_labels": st.dictionaries(st.text(max_size=5), ids, max_size=3)},
)
criterion = near(st.fixed_dictionaries({"id": ids, "when": st.one_of(grammar, typed(T.BOOL, 2))}))
stage = near(
    st.fixed_dictionaries(
        {"id": ids, "probability": st.one_of(st.floats(-1, 2, allow_nan=False), scalars)},
        optional={
            "won": st.booleans(),
            "lost": st.booleans(),
            "labels": st.lists(st.text(max_size=5), max_size=2),
            "exit": st.lists(criterion, max_size=3),
        },
    )
)
pipeline_doc = st.fixed_dictionaries(
    {"kind": st.just("pipeline"), "stages": st.lists(stage, max_size=5)},
    optional={
        "qualify_out": st.lists(
            near(
                st.fixed_dictionaries(
                    {"id": ids, "when": st.one_of(grammar, typed(T.BOOL, 2))},
                    optional={"from": ids, "severity": st.sampled_from(["warn", "x"])},
                )
            ),
            max_size=3,
        )
    },
)
tests_doc = st.fixed_dictionaries(
    {
        "kind": st.just("tests"),
        "cases": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(max_size=5),
                    "deal": st.dictionaries(st.sampled_from([*FIELDS, "id", "ammount"]), scalars, max_size=4),
                    "expect": st.fixed_dictionaries(
                        {},
                        optional={
                            "verdict": st.sampled_from(["ready", "won", "blocked"]),
                            "failed": st.lists(ids, max_size=2),
                            "qualify_out": st.lists(ids, max_size=2),
                            "evidence_stage": st.one_of(st.none(), ids),
                            "probability": st.floats(0, 1, allow_nan=False),
                        },
                    ),
                },
                optional={"as_of": st.sampled_from(["2026-06-30", "junk"])},
            ),
            min_size=1,
        ),
    }
)


@settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], max_examples=100
)
@given(fields_doc, pipeline_doc, st.one_of(st.none(), tests_doc))
def test_the_whole_chain_never_raises_and_every_diagnostic_lies_inside_its_file(tmp_path, fields, pipeline, tests):
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    texts = {}
    for name, document in (("fields", fields), ("pipeline", pipeline), ("tests", tests)):
        if document is not None:
            texts[f"{name}.yaml"] = yaml.safe_dump(document, allow_unicode=True)
            (folder / f"{name}.yaml").write_text(texts[f"{name}.yaml"], encoding="utf-8")
    result = read_pack([folder])
    for d in result.diagnostics:
        assert d.code.startswith("DG") and d.severity in ("error", "warning") and d.message
        assert_inside_its_file(d, texts)


def assert_inside_its_file(d: Diagnostic, texts: dict) -> None:
    """A diagnostic's line and column point at a character of its file (or just past a line's end)."""
    if not d.line:
        return
    lines = texts[Path(d.file).name].splitlines() or [""]
    assert 1 <= d.line <= len(lines), (d, len(lines))
    assert 1 <= d.column <= len(lines[d.line - 1]) + 1, (d, lines[d.line - 1])


# --- round trip ------------------------------------------------------------------------------------


# PyYAML's emitter and YAML itself fold NEL, LS and PS into spaces (yaml.safe_load does the same):
# text made of those cannot round-trip through any YAML tool, so it is left out here.
texts = st.text(st.characters(blacklist_characters="\x85\u2028\u2029", blacklist_categories=("Cs",)), max_size=20)


class _Dumper(yaml.SafeDumper):
    """Quotes exactly what the loader's resolver (YAML 1.2-like) would not read as a string: '0E0', '0o17'."""


_Dumper.yaml_implicit_resolvers = _Resolver.yaml_implicit_resolvers


@st.composite
def valid_pipelines(draw):
    count = draw(st.integers(1, 6))
    stage_ids = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=count, max_size=count, unique=True)
    )
    labels = iter(
        draw(
            st.lists(
                texts.filter(lambda t: t.strip() and t.strip().lower() not in stage_ids),
                min_size=count * 2,
                max_size=count * 2,
                unique_by=lambda t: t.strip().lower(),
            )
        )
    )
    stages = []
    rule_ids = iter(f"r{i}" for i in range(100))
    for stage_id in stage_ids:
        spec = {
            "id": stage_id,
            "probability": draw(st.integers(0, 100)) / 100,
            "name": draw(texts),
            "labels": [next(labels) for _ in range(draw(st.integers(0, 2)))],
        }
        spec["exit"] = [
            {
                "id": next(rule_ids),
                "when": draw(typed(T.BOOL, 2).filter(lambda w: "stage" not in w)),
                "why": draw(texts),
            }
            for _ in range(draw(st.integers(0, 2)))
        ]
        stages.append(spec)
    return {"kind": "pipeline", "stages": stages}


def to_yaml(document: dict) -> str:
    style = {"default_flow_style": None, "allow_unicode": True, "sort_keys": False, "width": 60}
    return yaml.dump(document, Dumper=_Dumper, **style)


FIELDS_YAML = yaml.safe_dump(
    {
        "kind": "fields",
        "fields": {
            name: {"type": type_, **({} if nullable and name != "stage" else {"required": True})}
            for name, (type_, nullable) in FIELDS.items()
        },
    }
)


@settings(deadline=None, max_examples=120)
@given(valid_pipelines())
def test_pipeline_round_trip(document):
    text = to_yaml(document)
    loaded = load_text(text, "pipeline.yaml")
    assert loaded.diagnostics == [], text
    (pipeline_doc,) = loaded.documents
    assert check_document(pipeline_doc) == []
    (fields_doc,) = load_text(FIELDS_YAML, "fields.yaml").documents
    pack, problems = build_pack([fields_doc, pipeline_doc])
    assert problems == []
    model = pack.pipeline
    assert [s.id for s in model.stages] == [s["id"] for s in document["stages"]]
    assert [s.probability for s in model.stages] == [Decimal(repr(s["probability"])) for s in document["stages"]]
    assert [s.name for s in model.stages] == [s["name"] for s in document["stages"]]
    assert [[label.label for label in s.labels] for s in model.stages] == [s["labels"] for s in document["stages"]]
    assert [[(c.id, c.when.source, c.why) for c in s.exit] for s in model.stages] == [
        [(c["id"], c["when"], c["why"]) for c in s["exit"]] for s in document["stages"]
    ]
    _, diagnostics = analyse(pack)
    assert not [d for d in diagnostics if d.is_error], diagnostics
    probabilities = [Decimal(repr(s["probability"])) for s in document["stages"]]
    falls = any(b < a for a, b in zip(probabilities, probabilities[1:]))
    assert any(d.code == "DG305" for d in diagnostics) is falls


@settings(deadline=None, max_examples=200)
@given(texts, st.integers(10, 80))
def test_every_character_of_a_dumped_string_is_located_where_it_was_written(value, width):
    """Whatever style the dumper picks (plain, quoted, escaped, folded), offsets map back to the file."""
    text = yaml.dump({"kind": "pipeline", "why": value}, Dumper=_Dumper, allow_unicode=True, width=width)
    result = load_text(text, "x.yaml")
    assume(not result.diagnostics)
    (document,) = result.documents
    assert document.data["why"] == value
    source = document.scalar_sources.get(("why",))
    if source is None:
        return  # not a string scalar (e.g. the empty string written as '')
    lines = text.splitlines(keepends=True)
    for offset, char in enumerate(value):
        if char.isspace():
            continue
        where = document.locate_within(("why",), offset)
        line = lines[where.line - 1]
        written = line[where.column - 1]
        assert written == char or (written == "\\" and source.style == '"'), (value, offset, text)


@SLOW
@given(st.sampled_from(sorted(p.name for p in (Path(__file__).parent / "data" / "invalid").iterdir())))
def test_invalid_cases_give_the_same_diagnostics_every_time(name):
    folder = Path(__file__).parent / "data" / "invalid" / name
    assert read_pack([folder]).diagnostics == read_pack([folder]).diagnostics
