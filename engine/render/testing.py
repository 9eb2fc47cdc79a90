"""Rule-test results as text, GitHub annotations or JUnit XML; coverage as a table."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal

from ..testing import CaseResult, TestRun
from .common import annotation, visible
from .sarif import render_test_run


def _show(value) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return "null" if value is None else str(value)


def failure_lines(result: CaseResult) -> list[str]:
    if result.error:
        return [f"error: {result.error}"]
    return [f"{m.key}: expected {_show(m.expected)}, got {_show(m.actual)}" for m in result.mismatches]


def render_text(run: TestRun, verbose: bool = False, color: bool = False) -> str:
    from .table import Paint

    paint = Paint(color) if color else (lambda style, text: text)
    out = []
    for result in run.results:
        if result.passed and not verbose:
            continue
        mark = "PASS" if result.passed else ("ERROR" if result.error else "FAIL")
        status = paint("pass" if result.passed else "fail", mark)
        out.append(f"{result.location}: {status} {visible(result.case.name)}")
        out.extend(f"    {visible(line)}" for line in failure_lines(result))
    passed = sum(1 for r in run.results if r.passed)
    failed = len(run.results) - passed
    out.append(f"{passed} passed, {failed} failed")
    return "\n".join(out) + "\n"


def render_github(run: TestRun) -> str:
    out = []
    for result in run.failed:
        location = result.location
        props = [
            ("file", location.file),
            ("line", location.line),
            ("col", location.column),
            ("title", "rule test failed: " + result.case.name),
        ]
        out.append(annotation("error", props, "; ".join(failure_lines(result))))
    return "\n".join(out) + ("\n" if out else "")


def render_json(run: TestRun) -> str:
    data = {
        "passed": sum(1 for r in run.results if r.passed),
        "failed": len(run.failed),
        "failures": [
            {"name": r.case.name, "file": r.location.file, "line": r.location.line, "problems": failure_lines(r)}
            for r in run.failed
        ],
        "coverage": coverage_json(run),
    }
    return json.dumps(data, indent=2) + "\n"


def render_junit(run: TestRun) -> bytes:
    """JUnit XML: one <testsuite> per tests file, one <testcase> per case."""
    by_file: dict[str, list[CaseResult]] = defaultdict(list)
    for result in run.results:
        by_file[result.location.file if result.location else "tests"].append(result)
    root = ET.Element(
        "testsuites",
        name="dealgate",
        tests=str(len(run.results)),
        failures=str(sum(1 for r in run.results if r.mismatches and not r.error)),
        errors=str(sum(1 for r in run.results if r.error)),
        time=f"{sum(r.seconds for r in run.results):.6f}",
    )
    for file, results in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(results)),
            failures=str(sum(1 for r in results if r.mismatches and not r.error)),
            errors=str(sum(1 for r in results if r.error)),
            skipped="0",
            time=f"{sum(r.seconds for r in results):.6f}",
        )
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=file.replace("/", ".").rsplit(".", 1)[0],
                name=result.case.name,
                file=file,
                line=str(result.location.line if result.location else 0),
                time=f"{result.seconds:.6f}",
            )
            if result.error:
                element = ET.SubElement(case, "error", message=result.error, type="CaseError")
                element.text = result.error
            elif result.mismatches:
                lines = failure_lines(result)
                element = ET.SubElement(case, "failure", message=lines[0], type="Mismatch")
                element.text = "\n".join(lines)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def render_coverage(run: TestRun) -> str:
    out = [f"{'kind':<12}{'owner':<18}{'rule':<28}{'cases':>6}  outcomes"]
    for item in run.coverage.values():
        if item.kind == "exit":
            seen = ", ".join(o for o in ("pass", "fail") if o in item.outcomes) or "-"
            missing = [o for o in ("pass", "fail") if o not in item.outcomes]
        elif item.kind == "qualify_out":
            seen = ", ".join(o for o in ("fired", "quiet") if o in item.outcomes) or "-"
            missing = [o for o in ("fired", "quiet") if o not in item.outcomes]
        else:
            seen = "-"
            missing = [] if item.cases else ["exercised"]
        flag = "" if item.covered else f"   <- never {' or '.join(missing)}"
        out.append(f"{item.kind:<12}{item.owner:<18}{item.id:<28}{item.cases:>6}  {seen}{flag}")
    covered = sum(1 for item in run.coverage.values() if item.covered)
    out.append(f"coverage: {run.coverage_percent()}% ({covered} of {len(run.coverage)} rules covered)")
    return "\n".join(out) + "\n"


def coverage_json(run: TestRun) -> dict:
    return {
        "percent": float(run.coverage_percent()),
        "items": [
            {
                "kind": i.kind,
                "owner": i.owner,
                "id": i.id,
                "cases": i.cases,
                "outcomes": sorted(i.outcomes),
                "covered": i.covered,
                "location": str(i.location) if i.location else None,
            }
            for i in run.coverage.values()
        ],
    }


# Every format: (run, verbose) -> text for stdout; only the text lists passing cases.
FORMATS = {
    "text": render_text,  # takes color=
    "github": lambda run, verbose=False: render_github(run),
    "json": lambda run, verbose=False: render_json(run),
    "sarif": lambda run, verbose=False: render_test_run(run),
}
