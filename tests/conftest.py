import datetime as dt
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The public CRM exports (read-only, never copied into the repository): DEALGATE_DATASETS, else
# ../shared/datasets beside the checkout. Tests that need them skip, saying so, when they are absent.
SHARED_DATASETS = Path(os.environ.get("DEALGATE_DATASETS") or ROOT.parent / "shared" / "datasets")

# Each dataset: folder, export file, as-of date (the exports carry no export date; see their LOADER_NOTES.txt).
# The pack is examples/<folder>; README.md gives each one a ready command with this date.
DATASETS = [
    ("maven-crm-sales-opportunities", "sales_pipeline.csv", "2017-12-31"),
    ("sfdc-assets-data-cloud-workshop", "Opportunity.csv", "2024-01-25"),
    ("sfdc-devorg-sample-opps", "Opportunity.csv", "2026-02-23"),
]


def dataset_file(folder: str, name: str) -> Path:
    """A file of a public dataset, or skip the test saying where it was looked for and how to point at it."""
    path = SHARED_DATASETS / folder / name
    if not path.is_file():
        pytest.skip(
            f"public dataset file {path} is absent: set DEALGATE_DATASETS to the folder holding the "
            f"datasets (default: ../shared/datasets beside the checkout)"
        )
    return path


@pytest.fixture(scope="session")
def default_ruleset():
    from engine.pack import load_ruleset

    ruleset, _ = load_ruleset([ROOT / "rules"])
    return ruleset


@pytest.fixture(params=["c", "python"])
def converter_loop(request, monkeypatch):
    """The test run with the converters' loop in C (engine.read.cells), then in the generated Python.

    The Python is the reference; modules testing the converters against their references
    (``pytestmark = pytest.mark.usefixtures("converter_loop")``) hold both to them.
    """
    from engine.read import cells

    if request.param == "c":
        monkeypatch.delenv("DEALGATE_PURE_PYTHON", raising=False)
        if not cells.available():
            pytest.skip("the C loop (engine/read/_cells.c) is not built: dealgate was installed without a C compiler")
    else:
        monkeypatch.setenv("DEALGATE_PURE_PYTHON", "1")
    return request.param


@pytest.fixture
def as_of():
    return dt.date(2026, 6, 30)


# Heap (MB) past which the shared test SparkSession is replaced by a new one. Each dealgate run leaves
# about 140 MB of its large query plans in the session's state until the session stops (measured:
# 343, 484, 625 MB after three runs; 305 MB once stopped and started again), so a whole suite on one
# session runs out of its 2 GB driver heap.
SPARK_HEAP_LIMIT_MB = 900


@pytest.fixture(scope="session")
def _spark_holder():
    pytest.importorskip("pyspark")
    from engine.sql.spark_engine import spark_problem, spark_session

    problem = spark_problem()
    if problem:
        pytest.skip(problem)
    holder = {"session": spark_session("local[2]")}
    yield holder
    holder["session"].stop()


def _spark_heap_mb(session, collect: bool = False) -> int:
    jvm = session.sparkContext._jvm
    if collect:
        jvm.java.lang.System.gc()
    runtime = jvm.java.lang.Runtime.getRuntime()
    return (runtime.totalMemory() - runtime.freeMemory()) // (1 << 20)


@pytest.fixture
def spark(_spark_holder):
    """The local SparkSession (local[2]) of the Spark tests; skipped without pyspark or Java.

    One session serves them all, started again (in the same JVM, a few seconds) when what it holds
    outgrows SPARK_HEAP_LIMIT_MB; a test gets the session in force when it starts.
    """
    from engine.sql.spark_engine import spark_session

    session = _spark_holder["session"]
    if _spark_heap_mb(session) > SPARK_HEAP_LIMIT_MB and _spark_heap_mb(session, collect=True) > SPARK_HEAP_LIMIT_MB:
        session.stop()
        session = _spark_holder["session"] = spark_session("local[2]")
    return session


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
