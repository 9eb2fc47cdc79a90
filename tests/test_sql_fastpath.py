"""engine.sql.fastpath: an everyday cell's fast reading is the exact reading, on DuckDB.

The fast path must be a strict subset of what Python reads, with the same value:
wherever its test holds, the value must be Python's; where it does not, the exact
reading takes over (tested in test_sql_coerce.py). Dates are the case to watch: with
``native`` the DuckDB engine reads them with DuckDB's own TRY_STRPTIME, which must
agree with Python's strptime on every text of the fast shapes.
"""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine import types as T
from engine.model import Field
from engine.sql.fastpath import fast_cell
from engine.values import ValueProblem, text_converter

FORMATS = [
    ("%m/%d/%Y", "%Y-%m-%d"),
    ("%d/%m/%Y",),
    ("%d.%m.%Y", "%m/%d/%Y"),
    ("%Y/%m/%d",),
    (),
    ("%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M"),
    ("%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M"),
]
EVERYDAY = [
    "03/31/2026",
    "3/1/2026",
    "1/5/2026",
    "12/31/9999",
    "1/1/1000",
    "2026-03-31",
    "2026-3-1",
    "2024-02-29",
    "02/29/2024",
    "02/29/2025",
    "2/30/2026",
    "4/31/2026",
    "02/29/1900",
    "02/29/2000",
    "13/1/2026",
    "00/10/2024",
    "2026-00-01",
    "2026-13-01",
    "0999-01-01",
    "31.12.2026",
    "1.1.2026",
    "2026/12/31",
    " 1/5/2026",
    "1/5/2026 ",
    "+1/5/2026",
    "1/5/+2026",
    "1/05/2026",
    "01/5/2026",
    "001/5/2026",
    "1/5/20260",
    "2026-01-05T00:00",
    "١/٥/٢٠٢٦",
    None,
    "",
    "2026-09-30 14:03",
    "2026-09-30 9:5",
    "2026-09-30 24:00",
    "2026-09-30 23:60",
    "2026-09-30  14:03",
    "2026-09-30 14:03 ",
    "2026-02-30 10:00",
    "2026-09-30T14:03:59",
    "2026-09-30t14:03:59",
    "2026-09-30T14:03:61",
    "2026-09-30T14:03:62",
    "30.09.2026 07:45",
    "2026-09-30 14:03:00",
]


@pytest.fixture(scope="module")
def db():
    connection = duckdb.connect()
    yield connection
    connection.close()


def python_date(text, formats):
    try:
        return text_converter(T.DATE, formats=formats)(text)
    except ValueProblem:
        return None


def fast(db, formats, texts, native):
    test, value = fast_cell(Field("d", T.DATE, formats=formats), exp.column("c"), None, native)
    sql = (
        f"SELECT {test.sql('duckdb')}, {value.sql('duckdb')} FROM (SELECT unnest($1) AS c, unnest($2) AS i) ORDER BY i"
    )
    return db.execute(sql, [texts, list(range(len(texts)))]).fetchall()


def check(db, formats, texts):
    portable = fast(db, formats, texts, native=False)
    native = fast(db, formats, texts, native=True)
    for text, (test, value), (native_test, native_value) in zip(texts, portable, native):
        assert bool(native_test) == bool(test), (formats, text)  # the same cells take the fast way
        if native_test:
            assert native_value == value == python_date(text, formats), (formats, text)


@pytest.mark.parametrize("formats", FORMATS)
def test_fast_dates_are_pythons(db, formats):
    check(db, formats, EVERYDAY)


DATE_CHARS = st.sampled_from(list("0123456789/-.:T") + [" ", "+"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    formats=st.sampled_from(FORMATS),
    texts=st.lists(st.text(DATE_CHARS, max_size=11), min_size=1, max_size=40),
    days=st.lists(st.dates(), max_size=20),
)
def test_random_fast_dates_are_pythons(db, formats, texts, days):
    shaped = []
    for day in days:  # real days in each everyday spelling, padded and not
        shaped += [
            day.strftime("%m/%d/%Y"),
            f"{day.month}/{day.day}/{day.year}",
            day.isoformat(),
            f"{day.day}.{day.month}.{day.year}",
            f"{day.isoformat()} {day.day % 24}:{day.month * 4}",
            f"{day.isoformat()}T0{day.day % 10}:{day.month:02}:{day.day * 2}",
        ]
    check(db, formats, texts + shaped)


STRINGS = ["abc", "a", "x ", " x", "\u00a0x", "x\u00a0", "e\u0301", "xe\u0301", "é", "!~", "\t", "a\u3000", None, ""]


def test_fast_strings_are_stripped_texts_in_both_forms(db):
    for strptime in (False, True):
        test, value = fast_cell(Field("s", T.STRING), exp.column("c"), None, strptime)
        rows = db.execute(
            f"SELECT {test.sql('duckdb')}, {value.sql('duckdb')} FROM (SELECT unnest($1) AS c, "
            "unnest($2) AS i) ORDER BY i",
            [STRINGS, list(range(len(STRINGS)))],
        ).fetchall()
        for text, (fast, fast_value) in zip(STRINGS, rows):
            if fast:
                assert fast_value == text.strip() == text, (strptime, text)
        assert [bool(r[0]) for r in rows] == [
            True,
            True,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            True,
            False,
            False,
            False,
            False,
        ]
