"""What a change to the rules does to real deals and payouts: ``dealgate diff BASE NEW``.

Both packs score the same export; deals are matched by the record they came
from (the export's line), so a deal that one pack rejects and the other
scores shows up too. The result is data (attrs values) rendered by
engine.render.diff as text, Markdown for a pull-request comment, or JSON.
"""

from __future__ import annotations

import collections
import datetime as dt
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from .compile import RuleSet
from .money import cents
from .payout.compute import compile_payout
from .payout.reps import read_reps
from .read import ExportStream
from .score import ScoreRun, Summary

COMPARED = ("verdict", "failed", "qualify_out", "evidence_stage", "probability", "weighted_amount")


class PackSourceError(Exception):
    """A BASE or NEW that names no readable pack (a missing directory, a bad git ref)."""


@attrs.frozen
class DealChange:
    line: int
    id: str | None
    stage: str | None
    changes: dict  # key -> (before, after), only the keys that differ


@attrs.frozen
class StageDelta:
    stage: str
    count: tuple  # (before, after)
    amount: tuple
    weighted: tuple


@attrs.frozen
class RepDelta:
    rep: str
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@attrs.frozen
class PackDiff:
    base: str
    new: str
    as_of: dt.date
    deals: int  # records compared
    changes: tuple  # DealChange
    stages: tuple  # StageDelta, for every stage of either pack
    forecast: tuple  # (before, after) weighted forecast of open deals
    payouts: tuple = ()  # RepDelta, only reps whose total changed
    payout_totals: tuple | None = None  # (before, after) over all reps, when payouts were compared
    period: str | None = None
    engines: tuple = ()  # (engine, why it was not the one asked for, or None) per scoring of a pack

    @property
    def changed(self) -> bool:
        return bool(
            self.changes
            or self.payouts
            or self.forecast[0] != self.forecast[1]
            or any(
                s.count[0] != s.count[1] or s.amount[0] != s.amount[1] or s.weighted[0] != s.weighted[1]
                for s in self.stages
            )
        )

    def counts_by_key(self) -> dict:
        counts = {key: 0 for key in COMPARED + ("scored", "rejected")}
        for change in self.changes:
            for key in change.changes:
                counts[key] += 1
        return counts


def materialise(spec: str, workdir: Path, cwd: Path | None = None) -> Path:
    """A directory holding the pack ``spec`` names: a directory as is, or ``git:REF[:PATH]`` checked out.

    For git, the YAML files under PATH (default ``rules``) at REF are written below ``workdir``.
    """
    if not spec.startswith("git:"):
        path = Path(spec)
        if not path.is_dir():
            raise PackSourceError(f"{spec}: not a rule-pack directory")
        return path
    ref, _, subpath = spec[4:].partition(":")
    subpath = subpath.strip("/") or "rules"
    if not ref:
        raise PackSourceError(f"{spec}: name a git ref, e.g. git:origin/main or git:HEAD~1:rules")
    git = shutil.which("git")
    if git is None:
        raise PackSourceError("git is not installed; give BASE and NEW as directories")
    listing = _git(git, cwd, "ls-tree", "-r", "--name-only", ref, "--", subpath)
    files = [f for f in listing.splitlines() if f.endswith((".yaml", ".yml"))]
    if not files:
        raise PackSourceError(f"{spec}: no .yaml files under '{subpath}' at {ref}")
    target = workdir / ref.replace("/", "_").replace("~", "_").replace("^", "_")
    for name in files:
        content = _git(git, cwd, "show", f"{ref}:{name}", binary=True)
        relative = Path(name).relative_to(subpath) if name != subpath else Path(Path(name).name)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)
    return target


def _git(git: str, cwd, *args, binary: bool = False):
    result = subprocess.run([git, *args], cwd=cwd, capture_output=True)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PackSourceError(f"git {' '.join(args[:2])}: {message[-1] if message else 'failed'}")
    return result.stdout if binary else result.stdout.decode("utf-8", "replace")


def _outcome(scored) -> tuple:
    r = scored.result
    return (
        "scored",
        r.id,
        r.stage,
        r.verdict,
        tuple(sorted(r.failed)),
        tuple(sorted(r.qualify_out + r.warnings)),
        r.evidence_stage,
        r.probability,
        _cents(r.weighted_amount),
    )


def _cents(value):
    return cents(value)  # half-up, exactly as score shows the same deal


def _collect(ruleset: RuleSet, sources, as_of, fmt, delimiter, engine: str = "python", master=None, records_path=None):
    """(outcome by (source, line), summary, (engine that ran, why not the one asked for))."""
    outcomes: dict[tuple, tuple] = {}
    summary = Summary(ruleset, as_of)

    def on_reject(source, reject):
        outcomes[(source, reject.line)] = ("rejected", reject.id, None, reject.reason)

    why = None
    if engine != "python":
        why = _collect_sql(engine, ruleset, sources, as_of, fmt, delimiter, master, summary, on_reject, outcomes)
        if why is None:
            return outcomes, summary, (engine, None)
    stream = ExportStream(ruleset.analysis, sources, on_reject, fmt, delimiter, records_path=records_path)
    for scored in ScoreRun(ruleset, stream, as_of, summary).deals():
        outcomes[(scored.source, scored.line)] = _outcome(scored)
    return outcomes, summary, ("python", why)


def _collect_sql(engine, ruleset, sources, as_of, fmt, delimiter, master, summary, on_reject, outcomes):
    """Score on DuckDB or Spark into ``outcomes`` and ``summary``; None, or why the Python engine must."""
    scorer: Any  # either engine's scorer: they have the same methods (SqlStream takes both)
    if engine == "spark":
        from .sql.spark_engine import Fallback, SparkScorer, SqlStream

        scorer = SparkScorer(ruleset, as_of, on_reject=on_reject, master=master)
    else:
        from .sql.duckdb_engine import DuckDBScorer, Fallback, SqlStream

        scorer = DuckDBScorer(ruleset, as_of, on_reject=on_reject)
    try:
        try:
            prepared = [scorer.prepare(source, fmt, delimiter) for source in sources]
            for source in prepared:
                scorer.check_readable(source)
        except Fallback as why:
            return str(why)
        SqlStream(scorer, prepared).run(None)
        scorer.fill_summary(summary)
        for scored in scorer.deals():
            outcomes[(scored.source, scored.line)] = _outcome(scored)
    finally:
        scorer.close()
    return None


def _in_order(sources) -> bool:
    """Whether the exports' names are distinct and sorted: then reading them in turn gives every outcome in the
    order the comparison lists them, (name, line), and the two packs' outcomes can be joined as they come."""
    names = [str(s) for s in sources]
    return len(set(names)) == len(names) and names == sorted(names)


def _streamed(ruleset: RuleSet, sources, as_of, fmt, delimiter, records_path, engine: str = "python"):
    """``_collect`` as an iterator of ((source, line), outcome) in file order, with the summary and the engine
    that ran (python, or duckdb, whose scored rows stay in DuckDB until they are read).

    Rejects reach ``on_reject`` as they are met: on Python before the next deal is handed on, on DuckDB all of
    them before the first deal. Each waits until the first deal that comes after it in the file.
    """
    summary = Summary(ruleset, as_of)
    waiting: collections.deque = collections.deque()

    def on_reject(source, reject):
        waiting.append(((source, reject.line), ("rejected", reject.id, None, reject.reason)))

    def ordered(deals, close=None):
        try:
            for scored in deals:
                key = (scored.source, scored.line)
                while waiting and waiting[0][0] < key:
                    yield waiting.popleft()
                yield key, _outcome(scored)
            yield from waiting
        finally:
            if close is not None:
                close()

    why = None
    if engine == "duckdb":
        from .sql.duckdb_engine import DuckDBScorer, Fallback, SqlStream

        scorer = DuckDBScorer(ruleset, as_of, on_reject=on_reject)
        try:
            prepared = [scorer.prepare(source, fmt, delimiter) for source in sources]
            for source in prepared:
                scorer.check_readable(source)
            SqlStream(scorer, prepared).run(None)
            scorer.fill_summary(summary)
        except Fallback as exc:
            why = str(exc)
            scorer.close()
            waiting.clear()
            summary = Summary(ruleset, as_of)
        except BaseException:
            scorer.close()
            raise
        else:
            return ordered(scorer.deals(), scorer.close), summary, ("duckdb", None)
    stream = ExportStream(ruleset.analysis, sources, on_reject, fmt, delimiter, records_path=records_path)
    return ordered(ScoreRun(ruleset, stream, as_of, summary).deals()), summary, ("python", why)


def _joined(before, after):
    """(key, outcome before, outcome after) of two iterators of (key, outcome) ordered by key; None where one has
    no record at that key."""
    old, new = next(before, None), next(after, None)
    while old is not None or new is not None:
        if old is not None and (new is None or old[0] < new[0]):
            yield old[0], old[1], None
            old = next(before, None)
        elif new is not None and (old is None or new[0] < old[0]):
            yield new[0], None, new[1]
            new = next(after, None)
        else:  # the same key on both sides
            assert old is not None and new is not None
            yield old[0], old[1], new[1]
            old, new = next(before, None), next(after, None)


def _describe(outcome: tuple | None) -> dict:
    if outcome is None:
        return {}
    if outcome[0] == "rejected":
        return {"verdict": f"rejected ({outcome[3]})"}
    _, _, _, verdict, failed, qualify_out, evidence, probability, weighted = outcome
    return {
        "verdict": verdict,
        "failed": list(failed),
        "qualify_out": list(qualify_out),
        "evidence_stage": evidence,
        "probability": probability,
        "weighted_amount": weighted,
    }


def compare_packs(
    base: RuleSet,
    new: RuleSet,
    sources: list,
    as_of: dt.date,
    *,
    base_name: str,
    new_name: str,
    fmt=None,
    delimiter=None,
    reps_path=None,
    period=None,
    engine: str = "python",
    master: str | None = None,
    records_path=None,
) -> PackDiff:
    """Score ``sources`` with both packs (on ``engine``: python, duckdb or spark) and compare deal by deal.

    An export the SQL engine cannot read exactly is scored by the Python engine (``PackDiff.engines``
    says so), and so are payouts whose crediting has no exact SQL form. ``records_path``: where a
    JSON export's records are (engine.read.RecordsPath).
    """
    if engine in ("python", "duckdb") and _in_order(sources):  # both packs read in step: nothing held per deal
        reading = (sources, as_of, fmt, delimiter, records_path, engine)
        before, base_summary, base_engine = _streamed(base, *reading)
        after, new_summary, new_engine = _streamed(new, *reading)
        pairs = _joined(before, after)
    else:
        held_before, base_summary, base_engine = _collect(
            base, sources, as_of, fmt, delimiter, engine, master, records_path
        )
        held_after, new_summary, new_engine = _collect(
            new, sources, as_of, fmt, delimiter, engine, master, records_path
        )
        keys = sorted(set(held_before) | set(held_after), key=lambda k: (k[0], k[1]))
        pairs = ((key, held_before.get(key), held_after.get(key)) for key in keys)
    changes = []
    deals = 0
    for key, old, now in pairs:
        deals += 1
        if old == now:
            continue
        described_old, described_new = _describe(old), _describe(now)
        diff = {
            k: (described_old.get(k), described_new.get(k))
            for k in COMPARED
            if described_old.get(k) != described_new.get(k)
        }
        if diff:
            record = now if now is not None else old
            changes.append(DealChange(key[1], record[1], record[2], diff))
    stages = _stage_deltas(base_summary, new_summary)
    payouts, totals = (), None
    if reps_path is not None and period is not None:
        payouts, totals = _payout_deltas(
            base, new, sources, as_of, (fmt, delimiter, records_path), reps_path, period, engine, master
        )
    return PackDiff(
        base_name,
        new_name,
        as_of,
        deals,
        tuple(changes),
        stages,
        (base_summary.weighted_forecast, new_summary.weighted_forecast),
        payouts,
        totals,
        period,
        (base_engine, new_engine),
    )


def _stage_total(totals, attr):
    """A stage's count or amount, zero when the stage is absent from one side."""
    if totals is None:
        return 0 if attr == "count" else Decimal(0)
    return getattr(totals, attr)


def _stage_deltas(base: Summary, new: Summary) -> tuple:
    ids = list(base.stages) + [s for s in new.stages if s not in base.stages]
    deltas = []
    for stage in ids:
        b, n = base.stages.get(stage), new.stages.get(stage)
        deltas.append(
            StageDelta(
                stage,
                (_stage_total(b, "count"), _stage_total(n, "count")),
                (_cents(_stage_total(b, "amount")), _cents(_stage_total(n, "amount"))),
                (_cents(_stage_total(b, "weighted")), _cents(_stage_total(n, "weighted"))),
            )
        )
    return tuple(deltas)


def _payout_totals(ruleset: RuleSet, sources, as_of, reading, reps_path, period, engine="python", master=None) -> dict:
    fmt, delimiter, records_path = reading
    program = compile_payout(ruleset)
    reps = read_reps(reps_path, program.plans, ruleset.fields.date_formats, ruleset.pack.reps)
    if not reps.ok:
        raise PackSourceError("; ".join(f"{d.location}: {d.message}" for d in reps.diagnostics if d.is_error))
    result = None
    if engine != "python":
        result = _credited_in_sql(engine, master, ruleset, program, sources, as_of, fmt, delimiter, reps, period)
    if result is None:
        stream = ExportStream(ruleset.analysis, sources, None, fmt, delimiter, records_path=records_path)
        records = ((line, deal) for _, _, line, deal in stream.records())
        result = program.compute(records, reps.reps, period, as_of)
    totals: dict[str, Decimal] = {}
    for statement in result.statements:
        totals[statement.rep] = totals.get(statement.rep, Decimal(0)) + statement.total
    return totals


def _credited_in_sql(engine, master, ruleset, program, sources, as_of, fmt, delimiter, reps, period):
    """The payout result with the crediting on DuckDB or Spark; None when the pack or export needs Python."""
    from .sql.support import sql_problems

    if len(sources) != 1 or sql_problems(ruleset, plans=True):
        return None
    if engine == "spark":
        from .sql.spark_credit import SparkCrediting
        from .sql.spark_engine import Fallback

        crediting: Any = SparkCrediting(ruleset, program, as_of, master=master)  # or DuckDBCrediting: the same methods
    else:
        from .sql.duckdb_credit import DuckDBCrediting
        from .sql.duckdb_engine import Fallback

        crediting = DuckDBCrediting(ruleset, program, as_of)
    try:
        stream = crediting.prepare(sources[0], fmt, delimiter)
        return crediting.program.compute(crediting.records(stream), reps.reps, period, as_of)
    except Fallback:
        return None
    finally:
        crediting.close()


def _payout_deltas(base, new, sources, as_of, reading, reps_path, period, engine="python", master=None):
    """Per rep, the payout total under each pack. ``reading``: the export's (format, delimiter, records path)."""
    if "-" in sources:
        raise PackSourceError("payout deltas read the export several times: give a file, not stdin")
    before = _payout_totals(base, sources, as_of, reading, reps_path, period, engine, master)
    after = _payout_totals(new, sources, as_of, reading, reps_path, period, engine, master)
    deltas = tuple(
        RepDelta(rep, before.get(rep, Decimal(0)), after.get(rep, Decimal(0)))
        for rep in sorted(set(before) | set(after))
        if before.get(rep, Decimal(0)) != after.get(rep, Decimal(0))
    )
    return deltas, (sum(before.values(), Decimal(0)), sum(after.values(), Decimal(0)))


def temporary_workdir():
    return tempfile.TemporaryDirectory(prefix="dealgate-diff-")
