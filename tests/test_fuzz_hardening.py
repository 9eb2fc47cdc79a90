"""The adversarial pass of issue 10 as Hypothesis strategies: hostile packs, cells, exports and text.

Each strategy generates the kind of input that found a problem (chains of computed fields, ids
with control characters, money cells in other currencies or shapes, CSV with quotes left open,
JSON with repeated keys and huge numbers, cells that would drive a terminal), and each property
is what must hold for every one of them: a diagnostic or a run, never an internal error (exit 3);
counts that reconcile; the same bytes from the Python and DuckDB engines; no raw control
character on a terminal.

The example counts are small so that the suite stays fast. ``DEALGATE_FUZZ=long`` multiplies
them by 50 for a deeper run (README.md, "Testing"):

    DEALGATE_FUZZ=long python -m pytest tests/test_fuzz_hardening.py
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from decimal import Decimal

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_hardening import AS_OF, BASE_PIPELINE, write_pack
from test_sql_coerce import duckdb_cells, python_cell, same

from cli import main
from engine import types as T
from engine.model import Field
from engine.values import CURRENCY_SYMBOLS, SYMBOL_OF, ValueProblem, parse_money

LONG = os.environ.get("DEALGATE_FUZZ") == "long"


def fuzz(examples: int) -> settings:
    """Bounded in the suite; 50 times deeper with DEALGATE_FUZZ=long."""
    return settings(
        max_examples=examples * 50 if LONG else examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


# strategies

_NUMBERS = st.one_of(
    st.integers(-(10**9), 10**9).map(str),
    st.decimals(-(10**6), 10**6, places=2, allow_nan=False).map(str),
    st.sampled_from(["1,500.00", "12,34,567", "1.5E+6", "0", "-0", "1 5", "1 000", "1.234,56"]),
)
_MARKS = st.sampled_from(
    [
        "",
        "$",
        "€",
        "£",
        "¥",
        "₹",
        "USD",
        "USD ",
        "JPY ",
        "EUR",
        "MIO",
        "TBD",
        "$ ",
        " ",
        "-",
        "(",
        ")",
        "+",
        "US$",
        "\u00a0",
        "١",
    ]
)


@st.composite
def money_cells(draw) -> str:
    """An amount as CRM exports write it, or almost: marks around (or inside) a number."""
    number = draw(_NUMBERS)
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(number)))
        number = number[:cut] + draw(_MARKS) + number[cut:]
    return draw(_MARKS) + number + draw(_MARKS)


_FREE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def computed_chains(draw) -> tuple[str, str]:
    """Computed fields each combining earlier ones (the exponential compile time and values)."""
    type_ = draw(st.sampled_from(["integer", "money", "string"]))
    first = {"integer": "years", "money": "amount", "string": "name"}[type_]
    ops = ["+"] if type_ == "string" else ["+", "-", "*"]
    count = draw(st.integers(2, 45))
    lines = [f'  c0: {{type: {type_}, compute: "{first}"}}\n']
    for k in range(1, count):
        left, right = draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))
        lines.append(f'  c{k}: {{type: {type_}, compute: "c{left} {draw(st.sampled_from(ops))} c{right}"}}\n')
    return "".join(lines), f"c{count - 1} != null"


_ID_CHARS = st.sampled_from(list("abz_09") + ["\n", "\r", "\t", " ", "-", ".", "\x1b", "é", "A", "\u202e"])


@st.composite
def csv_exports(draw) -> str:
    """CSV with quoted cells, line breaks, stray and unclosed quotes, short and long rows."""
    cells = st.one_of(
        st.sampled_from(["100", "$1,500.00", "discovery", "won", "", "x", "1"]),
        st.text(st.sampled_from(list('ab ,"\n\r;$')), max_size=8),
    )
    rows = []
    for k in range(draw(st.integers(1, 8))):
        row = [
            f"d{k}",
            draw(cells),
            draw(st.sampled_from(["discovery", "won", "Discovery", "nope"])),
            draw(cells),
            draw(st.sampled_from(["1", "2", "x", ""])),
        ]
        row = row[: draw(st.integers(3, 6))]
        style = draw(st.sampled_from(["plain", "quoted", "open"]))
        if style == "plain":
            text = ",".join(cell.replace('"', "").replace("\n", "").replace("\r", "").replace(",", "") for cell in row)
        elif style == "quoted":
            text = ",".join('"' + cell.replace('"', '""') + '"' for cell in row)
        else:  # a quote left open in a random cell
            at = draw(st.integers(0, len(row) - 1))
            text = ",".join(
                ('"' if i == at else "") + cell.replace('"', "").replace(",", "") for i, cell in enumerate(row)
            )
        rows.append(text)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return "Opportunity ID,name,Stage,Amount,years" + ending + ending.join(rows) + draw(st.sampled_from(["", ending]))


@st.composite
def json_exports(draw) -> str:
    """JSON arrays whose records repeat keys, hold huge numbers, nest, or are not objects."""
    records = []
    for k in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["plain", "duplicate", "huge", "nested", "scalar"]))
        if kind == "scalar":
            records.append(draw(st.sampled_from(["1", '"x"', "null", "[]"])))
            continue
        pairs = [
            f'"Opportunity ID": "j{k}"',
            '"Stage": "discovery"',
            f'"Amount": "{draw(money_cells())}"'.replace("\\", ""),
        ]
        if kind == "duplicate":
            pairs.append(draw(st.sampled_from(['"Amount": "500000"', '"Stage": "won"', '"x": 1, "x": 2'])))
        elif kind == "huge":
            pairs.append(f'"years": {"9" * draw(st.integers(17, 6000))}')
        elif kind == "nested":
            pairs.append('"name": {"a": [1, {"b": 2}]}')
        records.append("{" + ", ".join(pairs) + "}")
    return "[" + ",\n".join(records) + "]"


# properties


@pytest.fixture(scope="module")
def db():
    connection = duckdb.connect()
    yield connection
    connection.close()


@fuzz(12)  # each example is one DuckDB query (planning it costs more than its 60 cells)
@given(st.lists(money_cells(), min_size=1, max_size=60), st.sampled_from(["USD", "EUR", "JPY", "CHF"]))
def test_money_cells_read_the_same_on_python_and_duckdb(db, cells, currency):
    field = Field("amount", T.MONEY, currency=currency)
    python = [python_cell(field, cell, None) for cell in cells]
    sql = duckdb_cells(db, field, cells, None)
    for cell, (value, problem), (sql_value, sql_problem) in zip(cells, python, sql):
        assert problem == sql_problem, cell
        assert same(T.MONEY, value, sql_value), cell


@fuzz(200)
@given(money_cells(), st.sampled_from(["USD", "EUR", "JPY", "CHF"]))
def test_a_money_cell_read_holds_no_other_currency_and_no_split_number(cell, currency):
    try:
        value = parse_money(cell, currency)
    except ValueProblem:
        return
    assert isinstance(value, Decimal)
    own = SYMBOL_OF.get(currency)
    assert all(char == own for char in cell if char in CURRENCY_SYMBOLS), cell
    exponent = re.search(r"[0-9][eE][+-]?[0-9]+", cell)
    mantissa = cell[: exponent.start() + 1] if exponent else cell  # '1.5E+6': the E is no currency code
    letters = "".join(char for char in mantissa if char.isalpha())
    assert letters.replace(currency, "") == "", cell  # its own code only ('USD 5', '5 USD')
    if exponent is None:  # every digit written is read, none dropped or added ('1 5' is not 15)
        digits = "".join(char for char in cell if char.isdigit()).lstrip("0")
        assert digits.rstrip("0") == format(abs(value), "f").replace(".", "").strip("0"), cell


@fuzz(15)
@given(computed_chains())
def test_chains_of_computed_fields_are_refused_or_run(tmp_path_factory, chain):
    fields, when = chain
    folder = tmp_path_factory.mktemp("chain")
    pack = write_pack(folder / "rules", fields, when=when)
    validated = run("validate", pack)
    assert validated.exit_code in (0, 1), validated.output
    if validated.exit_code == 1:
        assert "error[DG209]" in validated.output or "error[" in validated.output
        return
    deals = folder / "deals.csv"
    deals.write_text("Opportunity ID,name,Stage,Amount,years\na1,A,discovery,9999999999999999,9999999999999999\n")
    scored = run("score", "--rules", pack, deals, "--format", "csv", "--engine", "python", *AS_OF)
    assert scored.exit_code == 0, scored.output


@fuzz(25)
@given(st.text(_ID_CHARS, min_size=1, max_size=10), st.text(_ID_CHARS, min_size=1, max_size=10))
def test_hostile_ids_are_refused_or_run(tmp_path_factory, stage_id, field_name):
    folder = tmp_path_factory.mktemp("ids")
    pack = write_pack(folder / "rules", f"  {json.dumps(field_name)}: {{type: integer, check_only: true}}\n")
    (pack / "pipeline.yaml").write_text(BASE_PIPELINE.replace("- id: discovery", f"- id: {json.dumps(stage_id)}"))
    validated = run("validate", pack)
    assert validated.exit_code in (0, 1), validated.output
    if validated.exit_code == 0:
        deals = folder / "deals.csv"
        deals.write_text("Opportunity ID,name,Stage,Amount,years\na1,A,won,5,1\n")
        assert run("score", "--rules", pack, deals, "--format", "csv", *AS_OF).exit_code == 0


@pytest.fixture(scope="module")
def base_pack(tmp_path_factory):
    return write_pack(tmp_path_factory.mktemp("base") / "rules")


def _score(pack, export, engine: str, rejects):
    result = run("score", "--rules", pack, export, "--format", "csv", "--rejects", rejects, "--engine", engine, *AS_OF)
    assert result.exit_code in (0, 2), result.output  # 2: an export no engine can read (said so)
    return result


@fuzz(8)
@given(csv_exports())
def test_csv_exports_reconcile_and_read_the_same_on_python_and_duckdb(tmp_path_factory, base_pack, text):
    folder = tmp_path_factory.mktemp("csv")
    export = folder / "deals.csv"
    export.write_bytes(text.encode("utf-8"))
    outputs = {}
    for engine in ("python", "duckdb"):
        rejects = folder / f"rejects-{engine}.csv"
        result = _score(base_pack, export, engine, rejects)
        last = result.stderr.strip().splitlines()[-1]
        rejected = rejects.read_text(encoding="utf-8") if rejects.exists() else ""
        outputs[engine] = (result.exit_code, result.stdout, rejected, last)
        if result.exit_code == 0:
            words = last.replace(",", "").split()  # read N scored S rejected R
            assert int(words[1]) == int(words[3]) + int(words[5]), last
            assert len(list(csv.DictReader(io.StringIO(rejected)))) == int(words[5])
    assert outputs["python"] == outputs["duckdb"]


@fuzz(15)
@given(json_exports())
def test_json_exports_reject_records_not_files(tmp_path_factory, base_pack, text):
    export = tmp_path_factory.mktemp("json") / "deals.json"
    export.write_text(text, encoding="utf-8")
    result = run("score", "--rules", base_pack, export, "--format", "csv", *AS_OF)
    assert result.exit_code == 0, result.output  # every element is a record or a reject: none stops the file
    words = result.stderr.strip().splitlines()[-1].replace(",", "").split()
    assert words[0] == "read" and int(words[1]) == int(words[3]) + int(words[5]) == text.count("\n") + 1


@fuzz(20)
@given(st.lists(_FREE_TEXT, min_size=1, max_size=4))
def test_no_text_output_passes_control_characters_to_a_terminal(tmp_path_factory, base_pack, names):
    export = tmp_path_factory.mktemp("text") / "deals.csv"
    with export.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Opportunity ID", "name", "Stage", "Amount", "years"])
        for k, name in enumerate(names):
            writer.writerow([f"t{k}{name}", name, "discovery", name or "5", "1"])
    for args in (["score", "--format", "table", "--color", "never"], ["explain", "--deal", f"t0{names[0]}"]):
        result = CliRunner().invoke(main, [*args, "--rules", str(base_pack), str(export), *AS_OF], color=True)
        assert result.exit_code in (0, 2), result.output
        shown = result.stdout + result.stderr
        assert all(char.isprintable() or char == "\n" for char in shown), repr(shown)
