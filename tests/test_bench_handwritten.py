"""The benchmark's yardstick must do the same work: generated code and bench/handwritten.py agree."""

import datetime as dt
import io
import sys

from conftest import ROOT
from engine.read import ExportReader
from engine.synthetic import write_csv

sys.path.insert(0, str(ROOT / "bench"))
import handwritten


def test_generated_scoring_matches_handwritten_on_every_row(default_ruleset):
    buffer = io.StringIO()
    write_csv(buffer, 3000, seed=11)
    as_of = dt.date(2026, 9, 30)
    reader = ExportReader(default_ruleset.analysis, io.StringIO(buffer.getvalue()), fmt="csv")
    deals = [deal for _, deal in reader.records()]
    assert len(deals) == 3000
    verdicts = set()
    for deal in deals:
        generated = default_ruleset.score(deal, as_of)
        assert tuple(generated) == handwritten.score(deal, as_of), deal
        verdicts.add(generated.verdict)
    assert verdicts == {"ready", "blocked", "disqualified", "won", "lost"}
