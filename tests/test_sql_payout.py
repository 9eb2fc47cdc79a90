"""Payouts credited by DuckDB against the Python engine, end to end from the CLI: the same bytes.

Each case runs ``dealgate payout`` with ``--engine python`` and ``--engine duckdb`` and compares
the statements file, the rejects file and stderr (diagnostics about deals, with their lines, and
the totals and counts line). Hypothesis-generated deals run every feature of the payout property
tests' plans (splits, multipliers, per-deal bonuses, clawbacks, draws) through both engines.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import textwrap

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_payout_properties import PLANS, deals_st

from cli import main
from conftest import ROOT, dataset_file

AS_OF = "2026-09-30"
EXPORT, REPS = ROOT / "examples" / "deals.csv", ROOT / "examples" / "reps.csv"


def payout(tmp_path, engine, export=EXPORT, reps=REPS, rules=ROOT / "rules", fmt="json", extra=(), as_of=AS_OF):
    out, rejects = tmp_path / f"{engine}.{fmt}", tmp_path / f"{engine}-rejects.csv"
    result = CliRunner().invoke(
        main,
        [
            "payout",
            str(export),
            "--rules",
            str(rules),
            "--reps",
            str(reps),
            "--engine",
            engine,
            "--as-of",
            as_of,
            "--format",
            fmt,
            "-o",
            str(out),
            "--rejects",
            str(rejects),
            *extra,
        ],
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, out.read_bytes(), rejects.read_bytes(), result.stderr


def assert_same(tmp_path, **options):
    python = payout(tmp_path, "python", **options)
    duckdb = payout(tmp_path, "duckdb", **options)
    assert duckdb[3] == python[3], "stderr: diagnostics, totals and counts"
    assert duckdb[2] == python[2], "rejects file"
    assert duckdb[0] == python[0], "exit code"
    if duckdb[1] != python[1]:
        left, right = python[1].decode().splitlines(), duckdb[1].decode().splitlines()
        differing = [(a, b) for a, b in zip(left, right) if a != b][:3]
        pytest.fail(f"statements differ ({len(left)} vs {len(right)} lines): {differing}")
    return python


@pytest.mark.parametrize("fmt", ["json", "csv", "table", "markdown"])
def test_the_example_statements_are_the_same_to_the_cent(tmp_path, fmt):
    exit_code, out, _, stderr = assert_same(tmp_path, fmt=fmt, extra=["--period", "2026-Q3"])
    assert b"ae-2026" in out or fmt == "table"
    assert "12 statements" in stderr and "rejected 4" in stderr


@pytest.mark.parametrize(
    "extra",
    [
        ["--from", "2026-Q1", "--to", "2026-Q4"],
        ["--period", "2026", "--rep", "alice"],
        ["--period", "2026-Q3", "--explain"],
    ],
)
def test_ranges_one_rep_and_explained_statements(tmp_path, extra):
    assert_same(tmp_path, extra=extra)


def test_says_which_engine_credited(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "payout",
            str(EXPORT),
            "--reps",
            str(REPS),
            "--period",
            "2026-Q3",
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--engine",
            "duckdb",
            "-v",
        ],
    )
    assert result.exit_code == 0 and "engine: duckdb" in result.stderr
    auto = CliRunner().invoke(
        main,
        ["payout", str(EXPORT), "--reps", str(REPS), "--period", "2026-Q3", "--as-of", AS_OF, "--format", "json", "-v"],
    )
    assert auto.exit_code == 0 and "engine: python" in auto.stderr  # a small export: auto stays in Python
    assert auto.stdout == result.stdout


def test_the_rule_repo_example(tmp_path):
    repo = ROOT / "examples" / "rule-repo"
    assert_same(
        tmp_path,
        export=repo / "samples" / "deals.csv",
        reps=repo / "samples" / "reps.csv",
        rules=repo / "rules",
        extra=["--period", "2026-Q3"],
    )


def test_a_parquet_export_credits_as_its_csv(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pacsv.read_csv(
        EXPORT,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in EXPORT.read_text(encoding="utf-8").splitlines()[0].split(",")}
        ),
    )
    parquet = tmp_path / "deals.parquet"
    pq.write_table(table, parquet)
    csv_run = payout(tmp_path, "python", extra=["--period", "2026-Q3"])
    parquet_run = payout(tmp_path, "duckdb", export=parquet, extra=["--period", "2026-Q3"])
    assert parquet_run[1] == csv_run[1]
    assert parquet_run[3].splitlines()[-1] == csv_run[3].splitlines()[-1].replace("rejected 4", "rejected 4")


def test_a_plan_that_cannot_run_in_sql_is_named_and_auto_credits_in_python(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "rules", pack)
    plan = pack / "plans" / "ae.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("  amount: amount\n", "  amount: amount / 2\n"), encoding="utf-8"
    )
    refused = CliRunner().invoke(
        main,
        [
            "payout",
            str(EXPORT),
            "--rules",
            str(pack),
            "--reps",
            str(REPS),
            "--period",
            "2026-Q3",
            "--as-of",
            AS_OF,
            "--engine",
            "duckdb",
        ],
    )
    assert refused.exit_code == 1
    assert "DG701" in refused.stderr and "plan 'ae-2026' credit amount" in refused.stderr
    assert "ae.yaml:" in refused.stderr and "division" in refused.stderr
    common = ["--rules", str(pack), "--reps", str(REPS), "--period", "2026-Q3", "--as-of", AS_OF, "-v"]
    auto = CliRunner().invoke(main, ["payout", str(EXPORT), *common, "--rejects", str(tmp_path / "r.csv")])
    assert auto.exit_code in (0, 1), auto.output
    assert "engine: python" in auto.stderr and "DG701" not in auto.stderr  # auto reads CSV in Python anyway
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    parquet = tmp_path / "deals.parquet"
    pq.write_table(pacsv.read_csv(EXPORT), parquet)
    refused = CliRunner().invoke(main, ["payout", str(parquet), *common])
    assert refused.exit_code == 1
    assert "DG701" in refused.stderr and "the one that reads Parquet: give the export as CSV or JSONL" in refused.stderr


def test_spark_pays_the_same_to_the_cent(tmp_path, spark):
    python = payout(tmp_path, "python", extra=["--from", "2026-Q1", "--to", "2026-Q4"])
    on_spark = payout(tmp_path, "spark", extra=["--from", "2026-Q1", "--to", "2026-Q4", "-v"])
    assert on_spark[1] == python[1] and on_spark[2] == python[2]
    assert "engine: spark" in on_spark[3]
    assert on_spark[3].splitlines()[-1] == python[3].splitlines()[-1]
    shown = [line for line in on_spark[3].splitlines() if not line.startswith("engine:")]
    assert shown == python[3].splitlines()


def test_the_maven_dataset_pays_the_same(tmp_path):
    source = dataset_file("maven-crm-sales-opportunities", "sales_pipeline.csv").parent
    reps = tmp_path / "reps.csv"
    with (source / "sales_teams.csv").open(encoding="utf-8") as teams, reps.open("w", encoding="utf-8") as out:
        out.write("id,name,plan\n")
        for row in csv.DictReader(teams):
            out.write(f"{row['sales_agent']},{row['sales_agent']},maven-agents\n")
    _, statements, _, stderr = assert_same(
        tmp_path,
        export=source / "sales_pipeline.csv",
        reps=reps,
        rules=ROOT / "examples" / "maven-crm-sales-opportunities",
        as_of="2017-12-31",
        extra=["--from", "2017-Q1", "--to", "2017-Q4"],
    )
    assert "statements, total" in stderr and len(statements) > 1000


# Generated deals through every plan feature, on both engines

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
HEADER = ["Id", "Stage", "Amount", "CloseDate", "OwnerId", "Split", "Contract Years", "Cancellation Date", "Discount"]
# what only SQL crediting could get wrong: an unknown credit rule (a blank discount), arithmetic in the
# amount, a computed field and the as-of date in a multiplier, two multipliers, per-deal bonuses both ways
SQL_EDGES = """
id: p
period: month
quota: 50000
credit:
  when: stage == "closed_won" and discount < 0.3
  amount: amount * 2 - 1
  date: close_date
  to: owner
  splits: split
commission:
  tiers:
    - {to: 1.0, rate: 0.05}
    - {from: 1.0, rate: 0.1}
  multipliers:
    - {id: long, when: contract_years >= 2, factor: 1.5}
    - {id: old, when: days_since(close_date) > 100, factor: 0.9}
bonuses:
  - {id: three_years, when: contract_years >= 3, amount: 250}
  - {id: small_discount, when: discount < 0.2, amount: amount * 0.01}
"""


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    made = {}
    for name, plan in {**PLANS, "sql_edges": SQL_EDGES}.items():
        pack = tmp_path_factory.mktemp(name)
        shutil.copy(ROOT / "rules" / "fields.yaml", pack / "fields.yaml")
        shutil.copy(ROOT / "rules" / "pipeline.yaml", pack / "pipeline.yaml")
        (pack / "plan.yaml").write_text("kind: plan\n" + textwrap.dedent(plan), encoding="utf-8")
        made[name] = pack
    return made


def write_export(path, deals) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for d in deals:
            cancelled = d.get("cancelled_on")
            writer.writerow(
                [
                    d["id"],
                    "Closed Won",
                    f"{d['amount']}",
                    d["close_date"].isoformat(),
                    d["owner"],
                    d.get("split") or "",
                    d.get("contract_years", ""),
                    cancelled.isoformat() if cancelled else "",
                    d.get("discount", "0.1"),
                ]
            )


@SETTINGS
@given(
    deals=deals_st(),
    name=st.sampled_from(sorted(PLANS) + ["sql_edges"] * 3),
    blank=st.sets(st.integers(0, 30), max_size=3),
    discounts=st.lists(st.sampled_from(["", "0.1", "0.25", "0.4"])),
)
def test_generated_deals_pay_the_same_on_both_engines(tmp_path_factory, packs, deals, name, blank, discounts):
    tmp_path = tmp_path_factory.mktemp("run")
    for index in blank:  # blank amounts: credited deals without a credit amount
        if index < len(deals):
            deals[index] = {**deals[index], "amount": ""}
    for index, discount in enumerate(discounts[: len(deals)]):  # blank discounts: unknown credit rules
        deals[index] = {**deals[index], "discount": discount}
    export, reps = tmp_path / "deals.csv", tmp_path / "reps.csv"
    write_export(export, deals)
    reps.write_text("id,name,plan,quota,start\na,A,p,100000,2026-01-01\nb,B,p,120000,2026-02-01\n", encoding="utf-8")
    assert_same(
        tmp_path,
        export=export,
        reps=reps,
        rules=packs[name],
        as_of=str(dt.date(2026, 12, 31)),
        extra=["--from", "2026-01", "--to", "2026-12"],
    )


def test_an_unknown_credit_rule_names_its_missing_fields_on_both_engines(tmp_path, packs):
    deals = [
        {
            "id": f"D{i}",
            "amount": 1000 * i,
            "close_date": dt.date(2026, 3, i + 1),
            "owner": "a",
            "contract_years": 3,
            "discount": "" if i % 2 else "0.1",
        }
        for i in range(1, 6)
    ]
    export, reps = tmp_path / "deals.csv", tmp_path / "reps.csv"
    write_export(export, deals)
    reps.write_text("id,name,plan,quota\na,A,p,100000\n", encoding="utf-8")
    _, statements, _, stderr = assert_same(
        tmp_path, export=export, reps=reps, rules=packs["sql_edges"], as_of="2026-12-31", extra=["--period", "2026-03"]
    )
    assert "deal D1: plan 'p' cannot tell whether it earns credit (missing discount)" in stderr
    assert b"small_discount" in statements and b"three_years" in statements


# dealgate sql --credits: the crediting as a warehouse query


def python_credits() -> dict:
    """(plan, id) -> what the plan's compiled credit function says about the example export's deals."""
    from engine.pack import load_ruleset
    from engine.payout import compile_payout
    from engine.read import ExportReader, Reject

    ruleset, _ = load_ruleset([ROOT / "rules"])
    program = compile_payout(ruleset)
    found = {}
    with ExportReader(ruleset.analysis, EXPORT) as reader:
        for _, deal in reader.records():
            if isinstance(deal, Reject):
                continue
            for plan_id, credit in program.credit.plans.items():
                result = credit.function(deal, dt.date(2026, 9, 30))
                if result.__class__ is tuple:
                    deal_id, amount, date, to, splits, overlay, factor, mults, bonuses, cancelled = result
                    result = (
                        True,
                        amount,
                        date,
                        to,
                        splits,
                        overlay,
                        ";".join(mults),
                        factor,
                        ";".join(b for b, _ in bonuses),
                        cancelled,
                    )
                found[(plan_id, deal["id"])] = result
    return found


def credits_sql(dialect: str) -> str:
    shown = CliRunner().invoke(
        main, ["sql", "--credits", "--table", "deals", "--like", str(EXPORT), "--as-of", AS_OF, "--dialect", dialect]
    )
    assert shown.exit_code == 0, shown.output
    return shown.stdout.rstrip().rstrip(";")


def as_credit(row) -> object:
    plan, deal_id, credited, amount, date, rep, splits, overlay, mults, factor, bonuses, cancelled = row
    if credited is not True:
        return credited
    return (True, amount, date, rep, splits, overlay, mults, factor, bonuses, cancelled)


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "snowflake", "bigquery", "postgres"])
def test_the_credits_query_parses_back_in_every_dialect(dialect):
    import sqlglot

    assert sqlglot.parse_one(credits_sql(dialect), read=dialect) is not None


def test_the_credits_query_run_by_duckdb_credits_as_the_python_engine():
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"CREATE TABLE deals AS SELECT * FROM read_csv('{EXPORT}', all_varchar=true)")
    rows = connection.execute(credits_sql("duckdb")).fetchall()
    got = {(row[0], row[1]): as_credit(row) for row in rows}
    assert got == python_credits()
    assert sum(1 for value in got.values() if value is not False and value is not None) > 50


def test_the_credits_query_runs_on_spark(spark):
    with EXPORT.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    spark.createDataFrame(rows, ", ".join(f"`{name}` string" for name in header)).createOrReplaceTempView("deals")
    got = {(row[0], row[1]): as_credit(tuple(row)) for row in spark.sql(credits_sql("spark")).collect()}
    assert got == python_credits()


def test_credits_of_a_pack_without_plans_is_a_usage_error():
    result = CliRunner().invoke(
        main, ["sql", "--credits", "--table", "deals", "--rules", str(ROOT / "examples" / "sfdc-devorg-sample-opps")]
    )
    assert result.exit_code == 2 and "no plans" in result.stderr
