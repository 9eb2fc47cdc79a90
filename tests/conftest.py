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


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession (local[2]) for every Spark test; skipped without pyspark or Java."""
    pytest.importorskip("pyspark")
    from engine.sql.spark_engine import spark_problem, spark_session

    problem = spark_problem()
    if problem:
        pytest.skip(problem)
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session", autouse=True)
def sql_cache(tmp_path_factory):
    """The DuckDB engine's SQL cache (engine.sql.cache) in a directory of the test session, not ~/.cache.

    Shared by every test (and the dealgate subprocesses they start), so that most runs go through
    a cached text: the outputs the tests compare then come from the cache as much as from compiling.
    """
    import os

    directory = tmp_path_factory.mktemp("sql-cache")
    previous = os.environ.get("DEALGATE_CACHE_DIR")
    os.environ["DEALGATE_CACHE_DIR"] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop("DEALGATE_CACHE_DIR", None)
    else:
        os.environ["DEALGATE_CACHE_DIR"] = previous
