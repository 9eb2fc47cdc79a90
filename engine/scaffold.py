"""``dealgate init``: a new rule repository that validates and tests clean from its first commit.

It holds the default pack (the bundled ``rules/``: fields mapping Salesforce and HubSpot columns, the
six-stage pipeline, the AE and SDR plans, their test cases), a sample export and reps file to run
it on, a ``dealgate.toml`` that pins the pack and the as-of date, and the checks CI and pre-commit
run on every change. The pack is read from the package (``engine.default_pack``), so ``init`` gives
the pack this dealgate was released with.
"""

from __future__ import annotations

import datetime as dt
import io
from importlib import resources
from pathlib import Path

from . import synthetic
from .check import schema_dir

AS_OF = dt.date(2026, 9, 30)  # the sample export's as-of date, pinned so reports are reproducible

REPS = """\
id,name,plan,quota,target_incentive,start,end,currency
alice,Alice Martin,ae-2026,400000,30000,2025-01-06,,USD
bob,Bob Okafor,ae-2026,,25000,2024-03-01,,USD
carol,Carol Diaz,ae-2026,300000,27500,2023-09-18,,USD
dan,Dan Weiss,ae-2026,,25000,2026-02-02,,USD
erin,Erin Lee,ae-2026,,25000,2022-11-14,,USD
frank,Frank Ito,ae-2026,,25000,2025-06-30,,USD
sam,Sam Park,sdr-2026,,,2025-08-04,,USD
sue,Sue Kim,sdr-2026,10,,2026-01-12,,USD
"""  # examples/reps.csv (a test keeps them equal)

CONFIG = f"""\
# dealgate's settings for this repository (docs: dealgate's docs/config.md).
rules = "rules"
as-of = {AS_OF.isoformat()}   # pinned, so the same rules and export always give the same report

[payout]
reps = "samples/reps.csv"
"""

PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): check the pack before every commit.
repos:
  - repo: local
    hooks:
      - id: dealgate-validate
        name: dealgate validate
        entry: dealgate validate --strict
        language: system
        files: ^rules/.*\\.ya?ml$
        pass_filenames: false
      - id: dealgate-test
        name: dealgate test
        entry: dealgate test
        language: system
        files: ^rules/.*\\.ya?ml$
        pass_filenames: false
"""

WORKFLOW = """\
name: rules
on:
  pull_request:
    paths: ["rules/**", "samples/**", "dealgate.toml"]
  push:
    branches: [main]
permissions:
  contents: read
  security-events: write   # upload the SARIF log to code scanning
jobs:
  rules:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0   # dealgate diff reads the base branch's rules from git
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install dealgate
        run: pip install dealgate   # or your copy: pip install "dealgate @ git+https://…@TAG"
      - name: Validate
        run: dealgate validate --strict --format github
      - name: Validate (SARIF for code scanning)
        if: always()
        run: dealgate validate --format sarif > dealgate.sarif || true
      - uses: github/codeql-action/upload-sarif@v3
        if: always()
        with:
          sarif_file: dealgate.sarif
          category: dealgate
      - name: Rule tests
        run: dealgate test --format github --coverage --junit test-results.xml
      - name: Impact on the sample export
        if: github.event_name == 'pull_request'
        run: >
          dealgate diff "git:origin/${{ github.base_ref }}:rules" rules
          --deals samples/deals.csv --reps samples/reps.csv --period 2026-Q3 --format markdown
"""

README = f"""\
# Sales rules

The rules this team qualifies deals and pays commission by, checked by
[dealgate](https://pypi.org/project/dealgate/).

| path | what |
|---|---|
| `rules/` | the pack: `fields.yaml` (columns), `pipeline.yaml` (stages, gates), `plans/`, `tests/` |
| `samples/` | a sample export and reps file to try the rules on |
| `dealgate.toml` | dealgate's settings: the pack and the as-of date ({AS_OF.isoformat()}) |

```sh
dealgate validate --strict          # every problem in the rules, with file:line:col
dealgate test                       # the pack's own test cases
dealgate score samples/deals.csv --format table
dealgate payout samples/deals.csv --period 2026-Q3
```

CI (`.github/workflows/rules.yml`) and pre-commit (`.pre-commit-config.yaml`) run the same checks.
"""


def default_pack() -> dict[str, str]:
    """Relative path -> text of each file of the bundled default pack."""
    root = _pack_root()
    files: dict[str, str] = {}
    for directory in ("", "plans", "tests"):
        folder = root.joinpath(directory) if directory else root
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml") and entry.is_file():
                name = f"{directory}/{entry.name}" if directory else entry.name
                files[name] = entry.read_text(encoding="utf-8")
    return files


def _pack_root():
    try:
        root = resources.files("engine.default_pack")
        if root.joinpath("pipeline.yaml").is_file():
            return root
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "rules"  # a source checkout run in place


def _sample_export(rows: int = 200) -> str:
    out = io.StringIO(newline="")
    synthetic.write_csv(out, rows, as_of=AS_OF)
    return out.getvalue()


def schemas() -> dict[str, str]:
    """The JSON Schemas, for the rule files' ``$schema`` modelines (editor completion: docs/editors.md)."""
    folder = schema_dir()
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".schema.json")
    }


def files() -> dict[str, str]:
    """Every file ``init`` writes: relative path -> text."""
    written = {f"rules/{name}": text for name, text in default_pack().items()}
    # The rule files' modelines point at ../schemas (../../schemas from plans/ and tests/), as in dealgate's own
    # repository: the schemas go there.
    written.update({f"schemas/{name}": text for name, text in schemas().items()})
    written.update(
        {
            "samples/deals.csv": _sample_export(),
            "samples/reps.csv": REPS,
            "dealgate.toml": CONFIG,
            ".pre-commit-config.yaml": PRE_COMMIT,
            ".github/workflows/rules.yml": WORKFLOW,
            "README.md": README,
        }
    )
    return written


def conflicts(target: Path) -> list[Path]:
    """The files ``init`` would overwrite in ``target``."""
    return [target / name for name in files() if (target / name).exists()]


def scaffold(target: Path) -> list[Path]:
    """Write the repository into ``target`` (created if need be); return the files written.

    The caller checks ``conflicts`` first: this overwrites.
    """
    written = []
    for name, text in files().items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        written.append(path)
    return written
