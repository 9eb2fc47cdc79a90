"""The default pack, written by hand as polars expressions: a yardstick of bench/engines.py.

    python bench/hand_polars.py EXPORT.csv|EXPORT.parquet OUT.csv [--rejects REJ.csv] [--as-of DATE]

The same work as bench/hand_duckdb.py (read that docstring for what is and is not handled),
as a lazy query: scan_csv (every column as text) or scan_parquet, typed and checked once,
the pack's rules as expressions, sink_csv. With --rejects, both outputs are written by one
``collect_all`` so the export is read once. (At 1M rows polars 2.1 peaks near 800 MB here,
with or without the rejects sink and with engine="streaming" too: it is measured, not tuned.)
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import polars as pl
from hand_duckdb import AS_OF, COLUMNS, FALSE_WORDS, PROBABILITY, STAGE_IDS, STAGE_KEYS, TRUE_WORDS, WHAT, arguments

STAGE_INDEX = {key: index for index, keys in STAGE_KEYS.items() for key in keys}
DEC = pl.Decimal(18, 6)
DATE_SHAPE = r"^(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})$"
FORMULA = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?\d+(\.\d+)?$"


def _parse(kind: str, t: pl.Expr) -> pl.Expr | None:
    """The typed value of trimmed, non-blank text ``t`` (null when it does not parse)."""
    if kind == "stage":
        return t.str.to_lowercase().replace_strict(STAGE_INDEX, default=None, return_dtype=pl.Int8)
    if kind == "money":  # '$12,500.00', '(1,200)' negative, '$-' zero
        clean = t.str.replace_all(r"[$,]", "")
        negative = clean.str.starts_with("(") & clean.str.ends_with(")")
        number = clean.str.strip_chars("()").cast(DEC, strict=False)
        return pl.when(clean == "-").then(pl.lit(0).cast(DEC)).when(negative).then(-number).otherwise(number)
    if kind == "decimal":
        return t.cast(DEC, strict=False)
    if kind == "integer":
        return t.cast(pl.Int64, strict=False)
    if kind == "bool":
        low = t.str.to_lowercase()
        return pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False)
    if kind == "date":
        return pl.coalesce(
            t.str.strptime(pl.Date, "%m/%d/%Y", strict=False), t.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        )
    return None


def _problems() -> list[tuple[str, pl.Expr, pl.Expr]]:
    """(header, condition, reason) for each checked column, in column order."""
    out = []
    for header, field, kind in COLUMNS:
        t, v = pl.col(f"t_{field}"), pl.col(f"v_{field}")
        if kind == "required":
            out.append((header, t.is_null(), pl.lit(f"missing required field '{field}'")))
        elif kind == "stage":
            out.append(
                (
                    header,
                    t.is_null() | v.is_null(),
                    pl.when(t.is_null())
                    .then(pl.lit("missing required field 'stage'"))
                    .otherwise(pl.format("unknown stage label '{}'", t)),
                )
            )
        elif kind in WHAT:
            reason = pl.format("'{}' is not " + WHAT[kind], t)
            if kind == "date":
                reason = (
                    pl.when(t.str.contains(DATE_SHAPE))
                    .then(pl.format("impossible date '{}'", t))
                    .otherwise(pl.format("'{}' is not a valid date (expected MM/DD/YYYY or YYYY-MM-DD)", t))
                )
            out.append((header, v.is_null() & t.is_not_null(), reason))
    return out


def _checked(path: str) -> pl.LazyFrame:
    if path.endswith(".parquet"):
        source = pl.scan_parquet(path, row_index_name="line", row_index_offset=2)
    else:
        source = pl.scan_csv(path, infer_schema=False, row_index_name="line", row_index_offset=2)
    texts = [pl.col(header).str.strip_chars(" ").replace("", None).alias(f"t_{field}") for header, field, _ in COLUMNS]
    values = [
        expr.alias(f"v_{field}")
        for _, field, kind in COLUMNS
        if (expr := _parse(kind, pl.col(f"t_{field}"))) is not None
    ]
    ok = ~pl.any_horizontal([condition for _, condition, _ in _problems()])
    return source.select(pl.col("line").cast(pl.Int64), *texts).with_columns(values).with_columns(ok=ok)


def _safe(name: str) -> pl.Expr:
    """engine.output.safe_cell: text a spreadsheet would run as a formula gets a leading '."""
    c = pl.col(name)
    return (
        pl.when(c.str.contains(FORMULA) & ~c.str.contains(PLAIN_NUMBER)).then(pl.lit("'") + c).otherwise(c).alias(name)
    )


def _join(*parts: pl.Expr) -> pl.Expr:
    """';'-joined names of the conditions that hold (null when none)."""
    return pl.concat_str(
        [pl.when(c).then(pl.lit(name)) for name, c in parts], separator=";", ignore_nulls=True
    ).replace("", None)


def scored(checked: pl.LazyFrame, as_of: dt.date, label: str) -> pl.LazyFrame:
    si = pl.col("v_stage")
    is_open = si < 5
    funds = pl.col("v_budget_confirmed").fill_null(False)
    event, buyer = pl.col("t_compelling_event").is_not_null(), pl.col("t_economic_buyer").is_not_null()
    champion, criteria = pl.col("t_champion").is_not_null(), pl.col("t_decision_criteria").is_not_null()
    proposal = pl.col("v_proposal_sent").is_not_null()
    discount_ok = (pl.col("v_discount").fill_null(0) <= pl.lit("0.15").cast(DEC)) | pl.col(
        "v_discount_approved"
    ).fill_null(False)
    typed = checked.filter("ok").select(
        "line",
        pl.col("t_id").alias("id"),
        pl.col("t_name").alias("name"),
        pl.col("t_owner").alias("owner"),
        si.alias("si"),
        is_open.alias("is_open"),
        pl.col("v_amount").alias("amount"),
        funds.alias("c_funds"),
        event.alias("c_event"),
        buyer.alias("c_buyer"),
        champion.alias("c_champion"),
        proposal.alias("c_proposal"),
        criteria.alias("c_criteria"),
        discount_ok.alias("c_discount"),
        ((pl.lit(as_of) - pl.col("v_stage_entered")).dt.total_days() > 90).fill_null(False).alias("aged"),
        (pl.col("v_close_date") < pl.lit(as_of)).fill_null(False).alias("close_past"),
        pl.col("v_close_date").is_not_null().alias("has_close"),
    )
    c = pl.col
    ruled = typed.with_columns(
        _join(
            ("access_to_funds", (c("si") == 1) & ~c("c_funds")),
            ("compelling_event", (c("si") == 1) & ~c("c_event")),
            ("economic_buyer", (c("si") == 2) & ~c("c_buyer")),
            ("champion", (c("si") == 2) & ~c("c_champion")),
            ("proposal_sent", (c("si") == 3) & ~c("c_proposal")),
            ("decision_criteria", (c("si") == 3) & ~c("c_criteria")),
            ("discount_approval", (c("si") == 4) & ~c("c_discount")),
        ).alias("failed"),
        # qualify-out: open deals only, each rule from its `from` stage on
        _join(
            ("stalled", c("is_open") & c("aged")),
            ("no_funds", c("is_open") & (c("si") >= 2) & ~c("c_funds")),
            ("no_compelling_event", c("is_open") & (c("si") >= 3) & ~c("c_event")),
        ).alias("qualify_out"),
        pl.when(c("is_open") & c("close_past")).then(pl.lit("close_date_past")).alias("warnings"),
        # evidence: the furthest open stage whose criteria, and every earlier stage's, hold
        pl.when(~(c("c_funds") & c("c_event")))
        .then(0)
        .when(~(c("c_buyer") & c("c_champion")))
        .then(1)
        .when(~(c("c_proposal") & c("c_criteria")))
        .then(2)
        .when(~c("c_discount"))
        .then(3)
        .otherwise(4)
        .alias("ei"),
    )
    stage_names = {i: s for i, s in enumerate(STAGE_IDS)}
    probability_text = {i: p for i, p in enumerate(PROBABILITY)}
    probability = c("si").replace_strict({i: p for i, p in enumerate(PROBABILITY)}, return_dtype=pl.String)
    return ruled.select(
        pl.lit(label).alias("file"),
        "line",
        _safe("id"),
        _safe("name"),
        _safe("owner"),
        c("si").replace_strict(stage_names, return_dtype=pl.String).alias("stage"),
        pl.when(c("si") == 5)
        .then(pl.lit("won"))
        .when(c("si") == 6)
        .then(pl.lit("lost"))
        .when(c("qualify_out").is_not_null())
        .then(pl.lit("disqualified"))
        .when(c("failed").is_not_null())
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("ready"))
        .alias("verdict"),
        "failed",
        pl.lit(None, pl.String).alias("missing"),  # no criterion of the default pack can be unknown
        "qualify_out",
        "warnings",
        c("si").replace_strict(probability_text, return_dtype=pl.String).alias("probability"),
        _cents(c("amount")).alias("amount"),
        _cents(c("amount") * probability.cast(pl.Decimal(3, 2))).alias("weighted_amount"),
        c("ei").replace_strict(stage_names, return_dtype=pl.String).alias("evidence_stage"),
        pl.when(c("is_open") & (c("ei") < c("si") - 1))
        .then(pl.lit("true"))
        .otherwise(pl.lit("false"))
        .alias("over_staged"),
        # the forecast categories, first match wins (ready: nothing failed or fired; not disqualified: nothing fired)
        pl.when(c("si") == 5)
        .then(pl.lit("closed"))
        .when((c("si") == 4) & c("qualify_out").is_null() & c("failed").is_null() & c("has_close"))
        .then(pl.lit("commit"))
        .when(c("si").is_in([3, 4]) & c("qualify_out").is_null())
        .then(pl.lit("best_case"))
        .when(c("si").is_in([1, 2]) & c("qualify_out").is_null())
        .then(pl.lit("pipeline"))
        .otherwise(pl.lit("omitted"))
        .alias("category"),
    )


def _cents(value: pl.Expr) -> pl.Expr:
    """To the cent, half away from zero (Python's ROUND_HALF_UP), as text like '6000.00'."""
    return value.round(2, mode="half_away_from_zero").cast(pl.Decimal(18, 2)).cast(pl.String)


def rejects(checked: pl.LazyFrame) -> pl.LazyFrame:
    problems = _problems()

    def first(values):
        expr = pl.lit(None, pl.String)
        for (_, condition, _), value in reversed(list(zip(problems, values))):
            expr = pl.when(condition).then(value).otherwise(expr)
        return expr

    fields = {header: field for header, field, _ in COLUMNS}
    return checked.filter(~pl.col("ok")).select(
        "line",
        pl.col("t_id").alias("id"),
        first([pl.lit(h) for h, _, _ in problems]).alias("column"),
        first([pl.col(f"t_{fields[h]}") for h, _, _ in problems]).alias("value"),
        first([reason for _, _, reason in problems]).alias("reason"),
    )


def run(path: str, out: str, rejects_path: str | None = None, as_of: str = AS_OF, label: str | None = None) -> dict:
    start = time.perf_counter()
    checked = _checked(path)
    day = dt.date.fromisoformat(as_of)
    sinks = [scored(checked, day, label or path).sink_csv(out, line_terminator="\n", lazy=True)]
    if rejects_path:
        sinks.append(rejects(checked).sink_csv(rejects_path, line_terminator="\n", lazy=True))
    pl.collect_all(sinks)
    return {"seconds": time.perf_counter() - start}


def main(argv=None) -> None:
    args = arguments(__doc__).parse_args(argv)
    counts = run(args.export, args.output, args.rejects, args.as_of)
    print(f"done in {counts['seconds']:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
