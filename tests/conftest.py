import datetime as dt
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def default_ruleset():
    from engine.pack import load_ruleset

    ruleset, _ = load_ruleset([ROOT / "rules"])
    return ruleset


@pytest.fixture
def as_of():
    return dt.date(2026, 6, 30)
