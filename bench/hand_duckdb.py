"""The default pack, written by hand as DuckDB SQL: the yardstick of bench/engines.py.

    python bench/hand_duckdb.py EXPORT.csv|EXPORT.parquet OUT.csv [--rejects REJ.csv] [--as-of DATE]

What a careful engineer would write to apply rules/ (fields.yaml, pipeline.yaml) to a
Salesforce-report export with DuckDB, producing the same 16 columns as
``dealgate score --format csv`` (engine/render/deals.py CSV_COLUMNS), in file order:

- read every column as text (``read_csv(all_varchar)``, or a Parquet file of text columns);
- parse as the pack declares: strings trimmed (blank = null), the stage label to its stage
  (labels and ids, case-insensitive), money ('$12,500.00', '(1,200)', '$-'), dates
  (MM/DD/YYYY or ISO; not the pack's 'YYYY-MM-DD HH:MM'), booleans (TRUE/FALSE, yes/no, Y/N,
  1/0; blank = the default false),
  the decimal discount and the integer contract years;
- a row with a blank id or stage, an unknown stage label or a value that does not parse is
  not scored: it goes to the rejects file (line, id, column, value, reason);
- exit criteria of the deal's own stage, qualify-out rules from their ``from`` stage on
  (open deals only), the close-date warning, verdict, evidence stage, over-staged, forecast category,
  probability, amount and weighted amount to the cent (half up), spreadsheet-safe text cells.

Skipped on purpose (exotic input a yardstick need not handle): header aliases other than the
Salesforce report headers engine.synthetic writes, quoted cells spanning lines (``line`` is
the row number + 1), comma-grouping checks ('1,23' reads as 123 here, dealgate refuses it),
ISO datetimes, more than 6 decimal places, Unicode whitespace other than spaces.
The rejects file costs a second read of the export (only when asked for).
"""

from __future__ import annotations

import argparse
import sys
import time

import duckdb

AS_OF = "2026-09-30"

# Stage index (pipeline order) by lower-cased label or id: rules/pipeline.yaml.
STAGE_KEYS = {
    0: ("prospecting", "lead", "appointment scheduled", "appointmentscheduled", "initial_contact"),
    1: ("qualification", "needs analysis", "qualified to buy", "qualifiedtobuy", "discovery"),
    2: (
        "value proposition",
        "id. decision makers",
        "perception analysis",
        "presentation scheduled",
        "presentationscheduled",
        "meeting",
    ),
    3: ("proposal/price quote", "decision maker bought-in", "decisionmakerboughtin", "proposal"),
    4: ("negotiation/review", "contract sent", "contractsent", "negotiation"),
    5: ("closed won", "won", "closedwon", "closed_won"),
    6: ("closed lost", "lost", "closedlost", "closed_lost"),
}
STAGE_IDS = ("initial_contact", "discovery", "meeting", "proposal", "negotiation", "closed_won", "closed_lost")
PROBABILITY = ("0.0", "0.10", "0.30", "0.60", "0.80", "1.0", "0.0")  # as written in the pack
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
DATE_SHAPE = "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(words) -> str:
    return "(" + ", ".join(_q(w) for w in words) + ")"


STAGE_MAP = "MAP {" + ", ".join(f"{_q(key)}: {index}" for index, keys in STAGE_KEYS.items() for key in keys) + "}"

# (header, field, kind) in the export's column order: each cell is trimmed (blank = null) once,
# parsed once, and checked once.
COLUMNS = (
    ("Opportunity ID", "id", "required"),
    ("Opportunity Name", "name", "string"),
    ("Opportunity Owner", "owner", "string"),
    ("Account Name", "account", "string"),
    ("Stage", "stage", "stage"),
    ("Amount", "amount", "money"),
    ("Close Date", "close_date", "date"),
    ("Last Stage Change Date", "stage_entered", "date"),
    ("Budget Confirmed", "budget_confirmed", "bool"),
    ("Compelling Event", "compelling_event", "string"),
    ("Economic Buyer", "economic_buyer", "string"),
    ("Champion", "champion", "string"),
    ("Decision Criteria", "decision_criteria", "string"),
    ("Proposal Sent Date", "proposal_sent", "date"),
    ("Discount", "discount", "decimal"),
    ("Discount Approved", "discount_approved", "bool"),
    ("Contract Years", "contract_years", "integer"),
    ("Cancellation Date", "cancelled_on", "date"),
    ("Split", "split", "string"),
    ("SDR", "sdr", "string"),
    ("Qualified Date", "qualified_on", "date"),
)
WHAT = {
    "money": "an amount",
    "decimal": "a number",
    "integer": "a whole number",
    "bool": "true/false",
    "date": "a valid date",
}


def _parse(kind: str, t: str) -> str | None:
    """SQL for the typed value of trimmed, non-blank text ``t`` (NULL when it does not parse)."""
    if kind == "stage":
        return f"{STAGE_MAP}[lower({t})]"
    if kind == "money":  # '$12,500.00', '(1,200)' negative, '$-' zero
        clean = f"replace(replace({t}, '$', ''), ',', '')"
        return (
            f"CASE WHEN {clean} = '-' THEN 0::DECIMAL(18,6) "
            f"WHEN {clean} LIKE '(%)' THEN -try_cast(trim(both '()' from {clean}) AS DECIMAL(18,6)) "
            f"ELSE try_cast({clean} AS DECIMAL(18,6)) END"
        )
    if kind == "decimal":
        return f"try_cast({t} AS DECIMAL(18,6))"
    if kind == "integer":
        return f"try_cast({t} AS BIGINT)"
    if kind == "bool":
        return (
            f"CASE WHEN lower({t}) IN {_in(TRUE_WORDS)} THEN true WHEN lower({t}) IN {_in(FALSE_WORDS)} THEN false END"
        )
    if kind == "date":
        return f"coalesce(try_strptime({t}, '%m/%d/%Y')::DATE, try_cast({t} AS DATE))"
    return None


def _problem(field: str, kind: str) -> tuple[str, str] | None:
    """(condition, reason SQL) over the ``parsed`` relation: this field's cell cannot be read."""
    t, v = f"t_{field}", f"v_{field}"
    if kind == "required":
        return f"{t} IS NULL", _q(f"missing required field '{field}'")
    if kind == "stage":
        blank = _q("missing required field 'stage'")
        return (
            f"{t} IS NULL OR {v} IS NULL",
            f"CASE WHEN {t} IS NULL THEN {blank} ELSE 'unknown stage label ''' || {t} || '''' END",
        )
    if kind not in WHAT:
        return None
    reason = "'''' || " + t + " || ''' is not " + WHAT[kind] + "'"
    if kind == "date":  # a date-shaped value naming no day (02/30/2026) is "impossible", as dealgate says
        reason = (
            f"CASE WHEN regexp_full_match({t}, '{DATE_SHAPE}') THEN 'impossible date ''' || {t} || '''' "
            f"ELSE {reason} || ' (expected MM/DD/YYYY or YYYY-MM-DD)' END"
        )
    return f"{v} IS NULL AND {t} IS NOT NULL", reason


PROBLEMS = [(header, problem) for header, field, kind in COLUMNS if (problem := _problem(field, kind))]


def _source(path: str) -> str:
    """The export's rows with their ``line`` (numbered before any row is filtered out)."""
    # Not read_parquet(file_row_number = true): with it, DuckDB 2.0.1 writes row groups out of
    # order despite preserve_insertion_order (a plain row_number() keeps the order).
    if path.endswith(".parquet"):
        return f"(SELECT row_number() OVER () + 1 AS line, * FROM read_parquet({_q(path)}))"
    return (
        f"(SELECT row_number() OVER () + 1 AS line, * FROM read_csv({_q(path)}, all_varchar = true, "
        "header = true, delim = ',', quote = '\"'))"
    )


def _checked(path: str) -> str:
    """CTEs up to ``checked``: trimmed text t_* (blank = NULL), typed values v_*, and ``ok``."""
    texts = ",\n        ".join(f"nullif(trim(\"{header}\"), '') AS t_{field}" for header, field, _ in COLUMNS)
    values = ",\n        ".join(
        f"{sql} AS v_{field}" for _, field, kind in COLUMNS if (sql := _parse(kind, f"t_{field}"))
    )
    problems = " OR ".join(f"({p[0]})" for _, p in PROBLEMS)
    return f"""raw AS (
    SELECT line,
        {texts}
    FROM {_source(path)}
), parsed AS (
    SELECT *,
        {values}
    FROM raw
), checked AS (
    SELECT *, NOT ({problems}) AS ok
    FROM parsed
)"""


def safe(expr: str) -> str:
    """engine.output.safe_cell: text a spreadsheet would run as a formula gets a leading '."""
    return (
        f"CASE WHEN left({expr}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"AND NOT regexp_full_match({expr}, '[+-]?[0-9]+([.][0-9]+)?') THEN '''' || {expr} ELSE {expr} END"
    )


def scored_sql(path: str, as_of: str, label: str) -> str:
    stage_ids = "[" + ", ".join(_q(s) for s in STAGE_IDS) + "]"
    probabilities = "[" + ", ".join(_q(p) for p in PROBABILITY) + "]"
    return f"""
WITH {_checked(path)}, typed AS (
    SELECT
        line,
        t_id AS id,
        t_name AS name,
        t_owner AS owner,
        v_stage AS si,
        v_stage < 5 AS is_open,
        v_amount AS amount,
        v_close_date AS close_date,
        v_stage_entered AS stage_entered,
        -- the exit criteria, as rules/pipeline.yaml writes them (bool fields default to false)
        coalesce(v_budget_confirmed, false) AS c_funds,
        t_compelling_event IS NOT NULL AS c_event,
        t_economic_buyer IS NOT NULL AS c_buyer,
        t_champion IS NOT NULL AS c_champion,
        v_proposal_sent IS NOT NULL AS c_proposal,
        t_decision_criteria IS NOT NULL AS c_criteria,
        coalesce(v_discount, 0) <= 0.15 OR coalesce(v_discount_approved, false) AS c_discount
    FROM checked
    WHERE ok
), ruled AS (
    SELECT *,
        concat_ws(';',
            CASE WHEN si = 1 AND NOT c_funds THEN 'access_to_funds' END,
            CASE WHEN si = 1 AND NOT c_event THEN 'compelling_event' END,
            CASE WHEN si = 2 AND NOT c_buyer THEN 'economic_buyer' END,
            CASE WHEN si = 2 AND NOT c_champion THEN 'champion' END,
            CASE WHEN si = 3 AND NOT c_proposal THEN 'proposal_sent' END,
            CASE WHEN si = 3 AND NOT c_criteria THEN 'decision_criteria' END,
            CASE WHEN si = 4 AND NOT c_discount THEN 'discount_approval' END) AS failed,
        -- qualify-out: open deals only, each rule from its `from` stage on
        concat_ws(';',
            CASE WHEN is_open AND DATE '{as_of}' - stage_entered > 90 THEN 'stalled' END,
            CASE WHEN is_open AND si >= 2 AND NOT c_funds THEN 'no_funds' END,
            CASE WHEN is_open AND si >= 3 AND NOT c_event THEN 'no_compelling_event' END) AS qualify_out,
        CASE WHEN is_open AND close_date < DATE '{as_of}' THEN 'close_date_past' END AS warnings,
        -- evidence: the furthest open stage whose criteria, and every earlier stage's, hold
        CASE WHEN NOT (c_funds AND c_event) THEN 0 WHEN NOT (c_buyer AND c_champion) THEN 1
             WHEN NOT (c_proposal AND c_criteria) THEN 2 WHEN NOT c_discount THEN 3 ELSE 4 END AS ei
    FROM typed
)
SELECT
    {_q(label)} AS file,
    line,
    {safe("id")} AS id,
    {safe("name")} AS name,
    {safe("owner")} AS owner,
    {stage_ids}[si + 1] AS stage,
    CASE WHEN si = 5 THEN 'won' WHEN si = 6 THEN 'lost' WHEN qualify_out <> '' THEN 'disqualified'
         WHEN failed <> '' THEN 'blocked' ELSE 'ready' END AS verdict,
    nullif(failed, '') AS failed,
    NULL::VARCHAR AS missing,  -- no criterion of the default pack can be unknown: defaults and '!= null'
    nullif(qualify_out, '') AS qualify_out,
    warnings,
    {probabilities}[si + 1] AS probability,
    amount::DECIMAL(18,2) AS amount,
    (amount * {probabilities}[si + 1]::DECIMAL(3,2))::DECIMAL(18,2) AS weighted_amount,
    {stage_ids}[ei + 1] AS evidence_stage,
    CASE WHEN is_open AND ei < si - 1 THEN 'true' ELSE 'false' END AS over_staged,
    -- the forecast categories, first match wins (ready: nothing failed or fired; not disqualified: nothing fired)
    CASE WHEN si = 5 THEN 'closed'
         WHEN si = 4 AND qualify_out = '' AND failed = '' AND close_date IS NOT NULL THEN 'commit'
         WHEN si IN (3, 4) AND qualify_out = '' THEN 'best_case'
         WHEN si IN (1, 2) AND qualify_out = '' THEN 'pipeline'
         ELSE 'omitted' END AS category
FROM ruled
"""


def rejects_sql(path: str) -> str:
    """The first unreadable cell of each row that cannot be scored, as the rejects file has it."""
    fields = {header: field for header, field, _ in COLUMNS}
    column = "CASE " + " ".join(f"WHEN {p[0]} THEN {_q(h)}" for h, p in PROBLEMS) + " END"
    value = "CASE " + " ".join(f"WHEN {p[0]} THEN t_{fields[h]}" for h, p in PROBLEMS) + " END"
    reason = "CASE " + " ".join(f"WHEN {p[0]} THEN {p[1]}" for h, p in PROBLEMS) + " END"
    return f"""
WITH {_checked(path)}
SELECT line, t_id AS id, {column} AS "column", {value} AS value, {reason} AS reason
FROM checked
WHERE NOT ok
"""


def run(
    path: str,
    out: str,
    rejects: str | None = None,
    as_of: str = AS_OF,
    label: str | None = None,
    threads: int | None = None,
) -> dict:
    """Score ``path`` into ``out`` (CSV); rows that cannot be read into ``rejects``. Counts back."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")  # output in file order, like dealgate
    con.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    scored = con.execute(
        f"COPY ({scored_sql(path, as_of, label or path)}) TO {_q(out)} "
        "(FORMAT csv, HEADER, DELIMITER ',', QUOTE '\"', NEW_LINE '\\n')"
    ).fetchone()[0]
    counts = {"scored": scored, "score_seconds": time.perf_counter() - start}
    if rejects:
        start = time.perf_counter()
        counts["rejected"] = con.execute(
            f"COPY ({rejects_sql(path)}) TO {_q(rejects)} (FORMAT csv, HEADER, DELIMITER ',', NEW_LINE '\\n')"
        ).fetchone()[0]
        counts["rejects_seconds"] = time.perf_counter() - start
    return counts


def arguments(doc: str) -> argparse.ArgumentParser:
    """The command line both yardsticks take: EXPORT OUT [--rejects FILE] [--as-of DATE]."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("export", help="a .csv export, or a .parquet file of text columns")
    parser.add_argument("output", help="the scored deals, as `dealgate score --format csv` writes them")
    parser.add_argument("--rejects", help="rows that cannot be read, as `dealgate score --rejects` writes them")
    parser.add_argument("--as-of", default=AS_OF)
    return parser


def main(argv=None) -> None:
    parser = arguments(__doc__)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    counts = run(args.export, args.output, args.rejects, args.as_of, threads=args.threads)
    print(
        f"scored {counts['scored']}, rejected {counts.get('rejected', '?')} "
        f"({counts['score_seconds']:.2f} s + {counts.get('rejects_seconds', 0):.2f} s for rejects)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
