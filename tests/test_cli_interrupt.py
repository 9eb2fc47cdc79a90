"""Issue 10, item 12: Ctrl-C (SIGINT) mid-run removes temporary files, prints one line and exits 130.

Each run is a real `dealgate` process reading a synthetic export (engine.synthetic). The Python
engine reads it from a pipe that is kept open, so the signal always lands mid-run, however fast
the machine: the export never ends. DuckDB reads files only; it gets a file large enough that its
query is still running when the output's temporary file appears.
"""

import io
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT
from engine.synthetic import write_csv

RULES = str(ROOT / "rules")
AS_OF = ["--as-of", "2026-09-30"]


def _start(args, cwd, stdin=None):
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def _feed(process, rows: int) -> None:
    """A synthetic export down the process's stdin, left open: the reader waits for more."""
    text = io.StringIO()
    write_csv(text, rows)
    process.stdin.write(text.getvalue().encode("utf-8"))
    process.stdin.flush()


def _wait_for(condition, process, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.02)


def _interrupt(process) -> str:
    process.send_signal(signal.SIGINT)
    if process.stdin is not None:
        threading.Timer(30, process.stdin.close).start()  # should the signal go unheard: end, don't hang
    _, stderr = process.communicate(timeout=120)
    return stderr.decode()


def _temporaries(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def _assert_interrupted(process, stderr: str) -> None:
    assert process.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "dealgate: interrupted", stderr
    assert "Traceback" not in stderr and "internal error" not in stderr and "Aborted" not in stderr, stderr


@pytest.mark.parametrize(
    "command",
    [
        ["score", "-", "--format", "csv", "-o", "{out}/scored.csv", "--rejects", "{out}/rejects.csv"],
        # payout opens -o once every deal is read: the rejects file is what is being written mid-run
        ["payout", "-", "--reps", str(ROOT / "examples" / "reps.csv"), "--period", "2026-Q3", "-o", "{out}/pay.csv"]
        + ["--rejects", "{out}/rejects.csv"],
    ],
    ids=["score", "payout"],
)
def test_ctrl_c_mid_run_removes_temporary_files_and_exits_130(tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    args = [part.format(out=out) for part in command]
    process = _start([*args, "--rules", RULES, "--engine", "python", *AS_OF], tmp_path, stdin=subprocess.PIPE)
    _feed(process, 20_000)
    _wait_for(lambda: _temporaries(out), process)
    stderr = _interrupt(process)
    _assert_interrupted(process, stderr)
    assert list(out.iterdir()) == [], stderr  # no temporary file, and no half output under its own name


def test_ctrl_c_while_explaining_exits_130(tmp_path):
    """explain writes to stdout: nothing to remove, but the same line and status."""
    process = _start(["explain", "-", "--deal", "no-such-deal", "--rules", RULES, *AS_OF], tmp_path, subprocess.PIPE)
    _feed(process, 5_000)
    time.sleep(1)  # reading; it cannot finish, the export has no end
    assert process.poll() is None
    _assert_interrupted(process, _interrupt(process))


def test_ctrl_c_during_a_duckdb_query_exits_130(tmp_path):
    """DuckDB turns the KeyboardInterrupt into its own 'Query interrupted' error: still an interruption."""
    pytest.importorskip("duckdb")
    export = tmp_path / "big.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, 400_000)
    out = tmp_path / "out"
    out.mkdir()
    args = ["score", str(export), "--format", "csv", "-o", str(out / "scored.csv"), "--engine", "duckdb"]
    process = _start([*args, "--rules", RULES, *AS_OF], tmp_path)
    _wait_for(lambda: _temporaries(out), process)
    stderr = _interrupt(process)
    if process.returncode == 0:
        pytest.skip("the query finished before the signal arrived")  # never seen; a very fast machine
    _assert_interrupted(process, stderr)
    assert list(out.iterdir()) == [], stderr


def test_ctrl_c_while_scoring_in_parts_stops_every_process_and_exits_130(tmp_path):
    """The parent waits on its part processes (engine.parts): it stops them and removes their files."""
    export = tmp_path / "big.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, 150_000)
    out, parts = tmp_path / "out", tmp_path / "parts"
    out.mkdir()
    parts.mkdir()
    args = ["score", str(export), "--format", "csv", "-o", str(out / "scored.csv"), "--engine", "python", "-j", "2"]
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", *args, "--rules", RULES, *AS_OF],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TMPDIR": str(parts)},
    )
    _wait_for(lambda: any(parts.iterdir()), process)  # the parts' folder: the processes are starting
    stderr = _interrupt(process)
    _assert_interrupted(process, stderr)
    assert list(out.iterdir()) == [] and list(parts.iterdir()) == [], stderr
