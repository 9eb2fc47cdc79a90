"""Account tiers (`kind: segments`, `dealgate segment`): the checks, the classification, the CLI on
tests/data/segments, the public Maven accounts export, and a property: every account read gets exactly
one tier, every other row is rejected, and the counts reconcile."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from conftest import DATA, ROOT, dataset_file
from engine.pack import load_ruleset, read_pack
from engine.read import ExportStream
from engine.segments.classify import DealTotals, SegmentError, SegmentRun, match_key, total_deals
from engine.segments.compile import compile_segments

PACK = DATA / "segments"
AS_OF = dt.date(2026, 9, 30)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def classifier_of(pack):
    ruleset, _ = load_ruleset([pack])
    return ruleset, compile_segments(ruleset.pack.segments, ruleset.analysis.checked)


def pack_with(tmp_path, segments_yaml: str):
    """The deal pack of tests/data/segments with another segments document."""
    for name in ("fields.yaml", "pipeline.yaml"):
        shutil.copy(PACK / name, tmp_path / name)
    (tmp_path / "segments.yaml").write_text(segments_yaml, encoding="utf-8")
    return tmp_path


TIERS = """kind: segments
fields:
  id: {type: string, required: true}
  revenue: {type: money}
  rating: {type: string, default: Cold}
tiers:
  - {id: alpha, when: revenue >= 1000 or open_pipeline >= 500, why: big}
  - {id: beta, when: won_amount > 0 or rating == "Hot", why: friendly}
default: {id: delta, why: the rest}
"""


# the checks


def test_the_example_packs_with_segments_validate_strictly():
    for pack in (PACK, ROOT / "examples" / "maven-crm-sales-opportunities"):
        result = read_pack([pack])
        assert result.ok and result.diagnostics == [], [str(d) for d in result.diagnostics]
        assert result.analysis.pack.segments is not None


def test_an_unknown_field_in_a_tier_is_reported_at_its_column_with_a_did_you_mean(tmp_path):
    pack = pack_with(tmp_path, TIERS.replace("revenue >= 1000", "revenu >= 1000"))
    [problem] = read_pack([pack]).diagnostics
    assert (problem.code, problem.line, problem.column) == ("DG203", 7, 23)
    assert problem.hint == "did you mean 'revenue'?"


def test_deal_fields_are_not_account_fields(tmp_path):
    """A tier reads the account and its deal aggregates, not one deal's fields ('amount')."""
    pack = pack_with(tmp_path, TIERS.replace("revenue >= 1000", "amount >= 1000"))
    assert [d.code for d in read_pack([pack]).diagnostics] == ["DG203"]


def test_a_misspelt_tier_key_is_a_schema_error_with_its_fix(tmp_path):
    pack = pack_with(tmp_path, TIERS.replace("why: big", "wy: big"))
    [problem] = read_pack([pack]).diagnostics
    assert problem.code == "DG101" and problem.hint == "did you mean 'why'?"


def test_a_key_must_be_a_declared_string_field(tmp_path):
    bad_type = read_pack([pack_with(tmp_path, TIERS.replace("kind: segments", "kind: segments\nkey: revenue"))])
    assert [(d.code, d.message) for d in bad_type.diagnostics] == [
        ("DG401", "the key 'revenue' must be a string field, not money")
    ]


def test_a_second_segments_document_is_one_too_many(tmp_path):
    pack = pack_with(tmp_path, TIERS)
    (tmp_path / "more.yaml").write_text(TIERS, encoding="utf-8")
    assert [d.code for d in read_pack([pack]).diagnostics] == ["DG302"]


def test_an_unknown_kind_suggests_segments(tmp_path):
    pack = pack_with(tmp_path, TIERS.replace("kind: segments", "kind: segment"))
    problems = read_pack([pack]).diagnostics
    assert [(d.code, d.hint) for d in problems] == [("DG011", "did you mean 'segments'?")]


# the classification


@pytest.fixture
def tiers(tmp_path):
    return classifier_of(pack_with(tmp_path, TIERS))[1]


def account(**values):
    record = {
        "id": "A",
        "revenue": None,
        "rating": "Cold",
        "deals": None,
        "open_deals": None,
        "won_deals": None,
        "lost_deals": None,
        "open_pipeline": None,
        "weighted_pipeline": None,
        "won_amount": None,
        "lost_amount": None,
    }
    record.update(values)
    return record


def test_the_first_matching_tier_wins(tiers):
    both = account(revenue=Decimal(5000), won_amount=Decimal(10))
    assert tiers.classify(both, AS_OF).id == "alpha"
    assert tiers.classify(account(won_amount=Decimal(10)), AS_OF).id == "beta"
    assert tiers.classify(account(rating="Hot"), AS_OF).id == "beta"


def test_an_unknown_value_matches_no_tier_and_the_default_takes_the_account(tiers):
    assert tiers.classify(account(), AS_OF).id == "delta"
    assert (
        tiers.classify(account(revenue=Decimal(10), open_pipeline=Decimal(0), won_amount=Decimal(0)), AS_OF).id
        == "delta"
    )


def test_each_tier_says_what_it_read_and_the_default_what_every_tier_read(tiers):
    assert tiers.reads == (
        ("revenue", "open_pipeline"),
        ("rating", "won_amount"),
        ("revenue", "rating", "open_pipeline", "won_amount"),
    )
    assert "tiers/segments.yaml" not in tiers.source and "def classify(a, as_of):" in tiers.source


def test_deals_are_totalled_per_account_by_the_pack_without_regard_to_case_or_spaces():
    ruleset, _ = classifier_of(PACK)
    stream = ExportStream(ruleset.analysis, [str(PACK / "deals.csv")])
    totals = total_deals(ruleset, stream, AS_OF)
    assert stream.counts.read == 8 and stream.counts.rejected == 1  # 'Nonsense Stage'
    assert totals.without_account == 1
    assert totals.values_for("GLOBEX") == {
        "deals": 2,
        "open_deals": 1,
        "won_deals": 1,
        "lost_deals": 0,
        "open_pipeline": Decimal("60000.00"),
        "weighted_pipeline": Decimal("30000.0000"),
        "won_amount": Decimal("10000.00"),
        "lost_amount": Decimal(0),
    }
    assert totals.values_for("Acme")["open_deals"] == 1  # written ' acme ' on the deal
    assert totals.values_for("Unknown")["deals"] == 0  # an account without deals: zero, not unknown
    assert match_key("  ") is None and match_key(" Ab ") == "ab"


def test_a_deal_pack_without_an_account_field_cannot_total_deals(tmp_path):
    pack = pack_with(tmp_path, TIERS)
    fields = (tmp_path / "fields.yaml").read_text().replace("  account: {type: string, columns: [Account Name]}\n", "")
    (tmp_path / "fields.yaml").write_text(fields)
    ruleset, _ = classifier_of(pack)
    with pytest.raises(SegmentError, match="no 'account' field"):
        total_deals(ruleset, ExportStream(ruleset.analysis, [str(PACK / "deals.csv")]), AS_OF)


# the command, end to end on tests/data/segments


@pytest.fixture
def segmented(tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run(
        "segment",
        PACK / "accounts.csv",
        "--rules",
        PACK,
        "--deals",
        PACK / "deals.csv",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--rejects",
        rejects,
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), list(csv.DictReader(rejects.open())), result.stderr


def test_every_readable_account_gets_its_tier_and_why(segmented):
    output, _, _ = segmented
    assert [(a["line"], a["account"], a["tier"]) for a in output["accounts"]] == [
        (2, "Acme", "alpha"),
        (3, "Globex", "alpha"),
        (4, "Stark", "delta"),
        (5, "Initech", "beta"),
        (9, "Wonka", "beta"),
    ]
    globex = output["accounts"][1]
    assert globex["why"] == "High future potential" and globex["tier_name"] == "Alpha"
    assert globex["read"] == {"annual_revenue": "20000000.00", "open_pipeline": "60000.00"}
    assert output["accounts"][2]["read"] == {
        "annual_revenue": "2000000.00",
        "rating": "Cold",
        "open_pipeline": "0.00",
        "won_amount": "0.00",
    }
    assert output["summary"]["tiers"] == {"alpha": 2, "beta": 2, "delta": 1}
    assert output["summary"]["deals"] == {
        "matched": 5,
        "unknown_account": 1,
        "unknown_accounts": 1,
        "without_account": 1,
        "accounts_sharing_a_key": 0,
    }


def test_unreadable_account_rows_are_rejected_with_line_column_value_and_reason(segmented):
    _, rejects, stderr = segmented
    assert [(r["line"], r["id"], r["column"], r["value"], r["reason"]) for r in rejects] == [
        ("6", "Hooli", "AnnualRevenue", "lots", "'lots' is not an amount"),
        ("7", "", "Name", "", "missing required field 'id'"),
        ("8", "Umbrella", "NumberOfEmployees", "12.5", "'12.5' is not a whole number"),
        ("10", "Soylent", "Customer Since", "not a date", "'not a date' is not a valid date (expected YYYY-MM-DD)"),
    ]
    assert stderr.strip().splitlines()[-1] == "read 9, segmented 5, rejected 4"
    assert "deals: read 8, scored 7, rejected 1" in stderr


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_every_format_names_each_account_and_its_tier(fmt):
    result = run(
        "segment",
        PACK / "accounts.csv",
        "--rules",
        PACK,
        "--deals",
        PACK / "deals.csv",
        "--as-of",
        "2026-09-30",
        "--format",
        fmt,
        "--width",
        "200",
    )
    assert result.exit_code == 0, result.output
    for name, tier in (("Acme", "alpha"), ("Stark", "delta"), ("Wonka", "beta")):
        assert any(name in line and tier in line for line in result.stdout.splitlines()), (name, result.stdout)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [r["tier"] for r in rows] == ["alpha", "alpha", "delta", "beta", "beta"]
        assert rows[3]["read"] == "rating=Hot, won_amount=0.00"
    assert result.stderr.strip().splitlines()[-1] == "read 9, segmented 5, rejected 4"


def test_without_deals_the_aggregates_are_unknown():
    result = run("segment", PACK / "accounts.csv", "--rules", PACK, "--as-of", "2026-09-30", "--format", "json")
    output = json.loads(result.stdout)
    assert [a["tier"] for a in output["accounts"]] == ["alpha", "delta", "delta", "beta", "delta"]
    assert output["accounts"][1]["read"]["open_pipeline"] is None and "deals" not in output["summary"]


def test_the_output_file_is_written_and_the_same_inputs_give_the_same_bytes(tmp_path):
    outputs = []
    for name in ("one.json", "two.json"):
        result = run(
            "segment",
            PACK / "accounts.csv",
            "--rules",
            PACK,
            "--deals",
            PACK / "deals.csv",
            "--as-of",
            "2026-09-30",
            "--format",
            "json",
            "-o",
            tmp_path / name,
        )
        assert result.exit_code == 0 and result.stdout == ""
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_a_pack_without_segments_is_a_rule_problem_and_a_missing_file_bad_usage(tmp_path):
    result = run("segment", PACK / "accounts.csv", "--rules", ROOT / "rules")
    assert result.exit_code == 1 and "no segments document" in result.stderr
    result = run("segment", tmp_path / "absent.csv", "--rules", PACK)
    assert result.exit_code == 2 and "no such export file" in result.stderr
    (tmp_path / "binary.csv").write_bytes(b"Name\n\xff\xfe\n")
    result = run("segment", tmp_path / "binary.csv", "--rules", PACK)
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_accounts_sharing_a_key_each_get_its_deals_and_a_warning(tmp_path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Name,Rating\nGlobex,Cold\nglobex ,Hot\n")
    result = run("segment", accounts, "--rules", PACK, "--deals", PACK / "deals.csv", "--format", "json")
    output = json.loads(result.stdout)
    assert [a["read"]["open_pipeline"] for a in output["accounts"]] == ["60000.00", "60000.00"]
    assert output["summary"]["deals"]["accounts_sharing_a_key"] == 1
    assert "warning: 1 account shares its key with an earlier row" in result.stderr


def test_an_accounts_export_without_the_key_column_is_refused(tmp_path):
    (tmp_path / "accounts.csv").write_text("Industry,Rating\nFood,Hot\n")
    result = run("segment", tmp_path / "accounts.csv", "--rules", PACK, "--format", "json")
    assert result.exit_code == 2, result.output


def test_the_default_pack_with_the_example_segments_document_tiers_the_example_accounts():
    """The command of docs/forecast.md and the README, with the numbers the docs show."""
    result = run(
        "segment",
        ROOT / "examples" / "accounts.csv",
        "--rules",
        ROOT / "rules",
        "--segments",
        ROOT / "examples" / "segments.yaml",
        "--deals",
        ROOT / "examples" / "deals.csv",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["summary"]["tiers"] == {"alpha": 8, "beta": 4, "delta": 8}
    assert output["summary"]["deals"] == {
        "matched": 396,
        "unknown_account": 0,
        "unknown_accounts": 0,
        "without_account": 0,
        "accounts_sharing_a_key": 0,
    }
    tiers = {a["account"]: a for a in output["accounts"]}
    assert tiers["Massive Dynamic"]["tier"] == "beta" and tiers["Massive Dynamic"]["read"] == {
        "rating": "Hot",
        "won_amount": "242750.00",
    }
    assert tiers["Nakatomi Trading"]["read"]["annual_revenue"] is None  # no deals, no revenue: Delta
    assert result.stderr.strip().splitlines()[-1] == "read 20, segmented 20, rejected 0"
    docs = (ROOT / "docs" / "forecast.md").read_text(encoding="utf-8")
    assert "as of 2026-09-30: 20 accounts: alpha 8, beta 4, delta 8" in docs


def test_a_segments_file_beside_a_pack_that_has_one_is_a_second_document():
    result = run("segment", PACK / "accounts.csv", "--rules", PACK, "--segments", PACK / "segments.yaml")
    assert result.exit_code == 1 and "DG302" in result.stderr


# the public Maven accounts export


def test_every_maven_account_gets_a_tier_with_its_reason_and_the_counts_reconcile(tmp_path):
    accounts = dataset_file("maven-crm-sales-opportunities", "accounts.csv")
    deals = dataset_file("maven-crm-sales-opportunities", "sales_pipeline.csv")
    rejects = tmp_path / "rejects.csv"
    result = run(
        "segment",
        accounts,
        "--rules",
        ROOT / "examples" / "maven-crm-sales-opportunities",
        "--deals",
        deals,
        "--as-of",
        "2017-12-31",
        "--format",
        "json",
        "--rejects",
        rejects,
    )
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    rows = list(csv.DictReader(accounts.open(encoding="utf-8", newline="")))
    assert [a["account"] for a in output["accounts"]] == [r["account"] for r in rows]
    assert all(a["tier"] in ("alpha", "beta", "delta") and a["why"] and a["read"] for a in output["accounts"])
    summary = output["summary"]
    assert sum(summary["tiers"].values()) == summary["accounts"] == len(rows) == 85
    assert summary["tiers"] == {"alpha": 21, "beta": 35, "delta": 29}  # as docs/forecast.md says
    # Every deal is matched to its account or has none (Maven's open deals often name no account).
    assert summary["deals"]["unknown_account"] == 0
    assert summary["deals"]["matched"] + summary["deals"]["without_account"] == 8800
    assert list(csv.reader(rejects.open())) == [["line", "id", "column", "value", "reason"]]
    assert result.stderr.strip().splitlines()[-1] == f"read {len(rows)}, segmented {len(rows)}, rejected 0"


def test_every_account_of_the_salesforce_sample_org_gets_a_tier_matched_by_account_id():
    accounts = dataset_file("sfdc-devorg-sample-opps", "Account.csv")
    deals = dataset_file("sfdc-devorg-sample-opps", "Opportunity.csv")
    result = run(
        "segment",
        accounts,
        "--rules",
        ROOT / "examples" / "sfdc-devorg-sample-opps",
        "--deals",
        deals,
        "--as-of",
        "2026-02-23",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert len(output["accounts"]) == output["summary"]["accounts"] == 18
    assert all(a["account"].startswith("001") and a["tier"] and a["why"] for a in output["accounts"])
    assert output["summary"]["deals"]["matched"] == 36  # every opportunity's AccountId is an account's Id
    united_oil = next(a for a in output["accounts"] if a["name"] == "United Oil & Gas Corp.")
    assert united_oil["tier"] == "alpha" and united_oil["read"]["open_deals"] == 4
    assert result.stderr.strip().splitlines()[-1] == "read 18, segmented 18, rejected 0"


# a property: random exports with broken rows


_CELLS = {
    "Name": st.one_of(
        st.sampled_from(["Acme", "Globex", " acme ", "Wonka", "Ünïcode Ltd", ""]),
        st.text(alphabet="abcXYZ ,\"'", max_size=6),
    ),
    "AnnualRevenue": st.one_of(
        st.sampled_from(["", "$1,000", "250000000", "-5", "lots", "1e3", " 12.50 "]),
        st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(str),
    ),
    "NumberOfEmployees": st.sampled_from(["", "12", "12.5", "x", "007"]),
    "Rating": st.sampled_from(["", "Hot", "Cold", "hot"]),
    "Customer Since": st.sampled_from(["", "2020-01-31", "2020-02-30", "yesterday"]),
}
_ROWS = st.lists(st.fixed_dictionaries(_CELLS), max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS, with_deals=st.booleans())
def test_every_account_gets_exactly_one_tier_and_the_counts_reconcile(rows, with_deals):
    ruleset, classifier = _MEMO.setdefault("pack", classifier_of(PACK))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(_CELLS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    rejected = []
    stream = ExportStream(
        classifier.reader_fields,
        [io.BytesIO(text.getvalue().encode())],
        lambda source, reject: rejected.append(reject),
        "csv",
    )
    deals = (
        total_deals(ruleset, ExportStream(ruleset.analysis, [str(PACK / "deals.csv")]), AS_OF) if with_deals else None
    )
    segment_run = SegmentRun(classifier, stream, AS_OF, deals)
    accounts = list(segment_run.accounts())
    counts = stream.counts
    assert counts.read == counts.deals + counts.rejected == len(accounts) + len(rejected)
    assert sum(segment_run.tiers.values()) == len(accounts) == segment_run.summary()["accounts"]
    assert counts.read == sum(1 for row in rows if any(row.values()))  # an all-empty row is no record
    for item in accounts:
        matching = [t for t in classifier.segments.tiers if _holds(t.id, item.account)]
        assert item.tier.id == (matching[0].id if matching else "delta")
        assert set(item.values) <= set(item.account)
    assert {r.line for r in rejected}.isdisjoint({a.line for a in accounts})


_MEMO: dict = {}


def _holds(tier: str, account: dict) -> bool:
    """The two tiers of tests/data/segments/segments.yaml, written by hand (null: no match)."""
    revenue, pipeline = account["annual_revenue"], account["open_pipeline"]
    if tier == "alpha":
        return (revenue is not None and revenue >= 100000000) or (pipeline is not None and pipeline >= 50000)
    won = account["won_amount"]
    return (won is not None and won > 0) or account["rating"] == "Hot"


def test_deal_totals_default_to_zero_for_an_account_without_deals():
    assert DealTotals().values_for("nobody")["won_amount"] == 0


_DEAL_CELLS = {
    "Opportunity ID": st.sampled_from(["D1", "D2", "", "D3"]),
    "Account Name": st.sampled_from(["Acme", " ACME", "Globex", "", "Nobody"]),
    "Stage": st.sampled_from(["Qualification", "Proposal", "Closed Won", "Closed Lost", "Verbal", ""]),
    "Amount": st.sampled_from(["", "$1,000.10", "250", "lots", "0.005", "-3"]),
}


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries(_DEAL_CELLS), max_size=25))
def test_every_scored_deal_is_in_exactly_one_account_total_or_has_no_account(rows):
    ruleset, _ = _MEMO.setdefault("pack", classifier_of(PACK))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(_DEAL_CELLS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    stream = ExportStream(ruleset.analysis, [io.BytesIO(text.getvalue().encode())], None, "csv")
    totals = total_deals(ruleset, stream, AS_OF)
    counts = stream.counts
    assert counts.read == counts.deals + counts.rejected
    accounts = totals.by_account.values()
    assert sum(t.deals for t in accounts) + totals.without_account == counts.deals
    assert all(t.deals == t.open_deals + t.won_deals + t.lost_deals for t in accounts)
    readable = [
        r
        for r in rows
        if r["Opportunity ID"]
        and r["Stage"] in ("Qualification", "Proposal", "Closed Won", "Closed Lost")
        and r["Amount"] != "lots"
    ]
    assert counts.deals == len(readable)
    open_amounts = sum(
        (
            Decimal(r["Amount"].replace("$", "").replace(",", ""))
            for r in readable
            if r["Amount"] and r["Account Name"] and r["Stage"] in ("Qualification", "Proposal")
        ),
        Decimal(0),
    )
    assert sum((t.open_pipeline for t in accounts), Decimal(0)) == open_amounts


def test_an_accounts_export_that_breaks_off_stops_with_its_counts(tmp_path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_bytes(b"Name,Rating\nAcme,Hot\nGlobex,\xff\n")
    result = run("segment", accounts, "--rules", PACK, "--format", "csv")
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("(stopped)")
