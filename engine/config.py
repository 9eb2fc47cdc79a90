"""Project configuration: ``dealgate.toml``, or ``[tool.dealgate]`` in ``pyproject.toml``, found upward.

As ruff and mypy do, dealgate looks for its configuration from the current directory up to the root
and takes the first directory that has one: there, ``dealgate.toml`` wins over ``pyproject.toml``,
and a ``pyproject.toml`` without a ``[tool.dealgate]`` table does not count (the search goes on).
Command-line options always win over the file.

```toml
[tool.dealgate]            # in dealgate.toml: the same keys at the top level
rules = "rules"            # the pack every command reads (relative to this file)
as-of = "2026-09-30"       # the date ages are counted to
ignore = ["DG310"]         # warnings never reported
select = ["DG3", "DG2"]    # only these warnings reported (codes or prefixes); errors always are
records = "results[].properties"  # where JSON exports' records are (--records), for every command

[tool.dealgate.score]      # any command's options by their long name
format = "csv"
engine = "duckdb"
```

This module reads and checks the file; the CLI turns it into click's default map.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path

import attrs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FILES = ("dealgate.toml", "pyproject.toml")
SETTINGS = ("rules", "as-of", "ignore", "select", "records")
_CODE_OR_PREFIX = re.compile(r"^DG\d{0,3}$")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and the key."""


@attrs.frozen
class Config:
    path: Path | None = None  # the file it came from (None: no configuration)
    rules: str | None = None
    as_of: str | None = None
    ignore: tuple = ()
    select: tuple | None = None
    records: str | None = None  # --records of every command that reads exports (checked when one runs)
    commands: dict = attrs.field(factory=dict)  # command name -> {option long name: value}

    def reports(self, code: str) -> bool:
        """Whether a warning with this code is reported (errors always are)."""
        if any(code.startswith(prefix) for prefix in self.ignore):
            return False
        return self.select is None or any(code.startswith(prefix) for prefix in self.select)


def find(start: Path) -> Path | None:
    """The configuration file that applies in ``start``: the nearest, searching upward."""
    for directory in (start, *start.parents):
        for name in FILES:
            candidate = directory / name
            if candidate.is_file() and (name == "dealgate.toml" or _has_tool_table(candidate)):
                return candidate
    return None


def _has_tool_table(pyproject: Path) -> bool:
    try:
        return "dealgate" in _parse(pyproject).get("tool", {})
    except ConfigError:
        return False


def _parse(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as problem:
        raise ConfigError(f"{path}: cannot read it: {problem.strerror or problem}") from None
    except tomllib.TOMLDecodeError as problem:
        raise ConfigError(f"{path}: not valid TOML: {problem}") from None
    except UnicodeDecodeError as problem:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text (byte {problem.start})") from None


def load(path: Path, commands: dict[str, tuple]) -> Config:
    """Read and check one configuration file.

    ``commands`` maps each command's name to the long names of its options, so that a misspelt
    command or option is an error with a suggestion, not a setting silently ignored.
    """
    data = _parse(path)
    table = data if path.name != "pyproject.toml" else data.get("tool", {}).get("dealgate", {})
    where = "[tool.dealgate]" if path.name == "pyproject.toml" else "the top level"
    settings, per_command = {}, {}
    for key, value in table.items():
        if key in SETTINGS:
            settings[key] = value
        elif key in commands and isinstance(value, dict):
            per_command[key] = _command_table(path, key, value, commands[key])
        else:
            near = list(commands) if isinstance(value, dict) else list(SETTINGS)  # a table names a command
            raise ConfigError(f"{path}: unknown key '{key}' in {where}{_suggest(key, near)}")
    return Config(
        path=path,
        rules=_rules(path, settings.get("rules")),
        as_of=_text(path, "as-of", settings),
        ignore=_codes(path, "ignore", settings.get("ignore", [])),
        select=_codes(path, "select", settings["select"]) if "select" in settings else None,
        records=_records(path, settings.get("records")),
        commands=per_command,
    )


def _command_table(path: Path, command: str, table: dict, options: tuple) -> dict:
    for key in table:
        if key not in options:
            raise ConfigError(f"{path}: '{command}' has no option '--{key}'{_suggest(key, options)}")
    return dict(table)


def _rules(path: Path, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: 'rules' must be a path (a string)")
    return _relative_to_cwd(path.parent / value)


def _relative_to_cwd(path: Path) -> str:
    """Paths in a configuration file are relative to it; messages show them as a user in cwd would."""
    return os.path.relpath(path.resolve(), Path.cwd().resolve())


def _records(path: Path, value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: 'records' must be a path (a string), e.g. records = \"results[].properties\"")
    return value


def _text(path: Path, key: str, settings: dict) -> str | None:
    value = settings.get(key)
    if value is None:
        return None
    if hasattr(value, "isoformat"):  # TOML has dates: as-of = 2026-09-30
        return value.isoformat()
    if not isinstance(value, str):
        raise ConfigError(f"{path}: '{key}' must be a date, e.g. {key} = 2026-09-30")
    return value


def _codes(path: Path, key: str, value) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: '{key}' must be a list of codes, e.g. {key} = [\"DG310\"]")
    for code in value:
        if not _CODE_OR_PREFIX.match(code.upper()):
            raise ConfigError(f"{path}: '{code}' in '{key}' is not a diagnostic code or prefix (DG310, DG3)")
    return tuple(code.upper() for code in value)


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
