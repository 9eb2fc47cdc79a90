"""PyYAML's syntax errors, said in the rule author's words.

PyYAML reports what its parser expected ("expected <block end>, but found '?'"), which
names tokens the author never wrote. Each error is classified here by what the author
most likely did (an inconsistent indent, a key at the wrong level, an unclosed quote or
bracket, a tab) using PyYAML's marks and the text around them, and reported at the
line the author has to change. Unknown shapes keep PyYAML's own words.
"""

from __future__ import annotations

import re

import yaml

from .diagnostics import Diagnostic, Location, error

_KEY = re.compile(r"(?:- +)*([^\s:#][^:#]*?):(?:\s|$)")
_CLOSERS = {"flow sequence": ("[", "]"), "flow mapping": ("{", "}")}


def yaml_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    """One DG009 diagnostic for a PyYAML error: what went wrong, where to fix it, and how."""
    lines = text.splitlines()
    for explain in (
        _tab,
        _unclosed_quote,
        _unclosed_bracket,
        _dedented,
        _over_indented,
        _missing_colon,
        _reserved_character,
        _undefined_alias,
    ):
        found = explain(exc, lines, file)
        if found is not None:
            return found
    return _as_pyyaml_says(exc, file)


def _at(file: str, mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_column(line: str) -> int:
    """Where the key of a line starts: after its indentation and any '- ' list markers."""
    stripped = line.lstrip(" ")
    column = len(line) - len(stripped)
    while stripped.startswith("- "):
        rest = stripped[2:].lstrip(" ")
        column += len(stripped) - len(rest)
        stripped = rest
    return column


def _key(line: str) -> str | None:
    match = _KEY.match(line.strip())
    return match.group(1).strip() if match else None


def _content_lines_before(lines: list[str], index: int):
    """(index, line) of the lines above ``index`` that hold YAML, nearest first."""
    for i in range(min(index, len(lines)) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#") and stripped != "---":
            yield i, lines[i]


def _problem(exc) -> str:
    return exc.problem or ""


def _tab(exc, lines, file):
    mark = exc.problem_mark
    if mark is None or mark.line >= len(lines):
        return None
    line = lines[mark.line]
    indentation = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" not in indentation and "tab" not in _problem(exc):
        return None  # a tab inside a value is text; the error is something else
    column = line.index("\t") + 1 if "\t" in line else mark.column + 1
    return error(
        "DG009",
        "a tab is used for indentation; YAML allows only spaces (found '\\t')",
        Location(file, mark.line + 1, column),
        "indent with spaces; YAML does not allow tabs",
    )


def _unclosed_quote(exc, lines, file):
    if "quoted scalar" not in (exc.context or "") or "end of stream" not in _problem(exc):
        return None
    mark = exc.context_mark
    quote = lines[mark.line][mark.column] if mark.line < len(lines) and mark.column < len(lines[mark.line]) else '"'
    return error(
        "DG009",
        f"unclosed quote: the string opened with {quote} here never ends",
        _at(file, mark),
        f"end the string with {quote} on the same line; inside it, write "
        + ("'' for a quote" if quote == "'" else '\\" for a quote'),
    )


def _unclosed_bracket(exc, lines, file):
    context = exc.context or ""
    kind = next((k for k in _CLOSERS if k in context), None)
    if kind is None or not _problem(exc).startswith("expected ','"):
        return None
    opener, closer = _CLOSERS[kind]
    mark, problem = exc.context_mark, exc.problem_mark
    if problem is not None and problem.line == mark.line and _problem(exc).endswith("but got ':'"):
        return error(
            "DG009",
            "a value contains ': ', which YAML reads as the start of another key",
            _at(file, problem),
            "a value containing ': ' must be quoted: {why: \"Note: …\"}",
        )
    if problem is not None and problem.line == mark.line and "<stream end>" not in _problem(exc):
        return error(
            "DG009",
            f"expected ',' or '{closer}' in the {'list' if opener == '[' else 'mapping'} "
            f"opened at column {mark.column + 1}",
            _at(file, problem),
            "separate items with ', '; quote an item that contains ':', '[' or '{'",
        )
    return error(
        "DG009",
        f"unclosed '{opener}': no '{closer}' closes it",
        _at(file, mark),
        f"add '{closer}' at the end of the line (a '{opener}…{closer}' list or mapping is written on one line here)"
        if opener == "["
        else f"add '{closer}' at the end of the line",
    )


def _dedented(exc, lines, file):
    """'expected <block end>, but found …': a line left of where its mapping or list lines up."""
    problem = _problem(exc)
    if not problem.startswith("expected <block end>") or exc.problem_mark is None:
        return None
    mark = exc.problem_mark
    if mark.line >= len(lines):
        return None
    line = lines[mark.line]
    found = problem.split("but found", 1)[-1].strip()
    if found in ("']'", "'}'"):
        return error(
            "DG009",
            f"unexpected {found}: nothing is open for it to close",
            _at(file, mark),
            "remove it, or add the matching opening bracket",
        )
    here = _indent(line)
    for above_index, above in _content_lines_before(lines, mark.line):
        # A list item lines up with the '- ' of its siblings, a key with the keys of its mapping.
        level = (
            _indent(above) if line.lstrip().startswith("- ") and above.lstrip().startswith("- ") else _key_column(above)
        )
        if level > here:
            return _inconsistent(file, mark.line, here, above_index, above, level)
        break
    if found == "'-'":
        return error(
            "DG009",
            "a list item ('- ') where a key was expected",
            _at(file, mark),
            "indent the list under the key it belongs to, e.g. 'labels:' then '  - name'",
        )
    return error(
        "DG009",
        f"inconsistent indentation: this line is indented {here} spaces, which matches no level above it",
        _at(file, mark),
        "line it up with the other keys of its mapping, or with the '- ' of its list",
    )


def _inconsistent(file, index, here, above_index, above, level):
    name = _key(above)
    what = f"'{name}:'" if name else "the line above"
    line_no = above_index + 1
    return error(
        "DG009",
        f"inconsistent indentation: this line is indented {here} spaces, but {what} above it "
        f"(line {line_no}) is indented {level}",
        Location(file, index + 1, here + 1),
        f"indent it by {level} spaces like {what}, if it belongs to the same mapping; the keys of one "
        f"mapping must line up exactly",
    )


def _over_indented(exc, lines, file):
    """'mapping values are not allowed here': a key indented under a plain value, or ': ' in a value."""
    if _problem(exc) != "mapping values are not allowed here" or exc.problem_mark is None:
        return None
    mark = exc.problem_mark
    if mark.line >= len(lines):
        return None
    line = lines[mark.line]
    here = _key_column(line)
    first_colon = line.find(":", here)
    if first_colon != mark.column:  # the ':' is inside a value, after a key of the same line
        return error(
            "DG009",
            "a value contains ': ', which YAML reads as the start of another key",
            _at(file, mark),
            "a value containing ': ' must be quoted: why: \"Note: …\"",
        )
    above_lines = list(_content_lines_before(lines, mark.line))[:2]
    if len(above_lines) == 2 and _key_column(above_lines[1][1]) == here > _key_column(above_lines[0][1]):
        # The lines before and after line up and the one between does not: it is the one that moved.
        (index, moved), (_, before) = above_lines
        return error(
            "DG009",
            f"inconsistent indentation: this line is indented {_indent(moved)} spaces, but the "
            f"lines before and after it are indented {here}",
            Location(file, index + 1, _indent(moved) + 1),
            f"indent it by {here} spaces like '{_key(before) or before.strip()}' above it, if it belongs "
            f"to the same mapping",
        )
    for _, above in above_lines[:1]:
        level = _key_column(above)
        if level < here and _key(above):
            name = _key(above)
            return error(
                "DG009",
                f"inconsistent indentation: this line is indented {_indent(line)} spaces, "
                f"more than '{name}:' above it ({level}), whose value is given on its line",
                Location(file, mark.line + 1, _indent(line) + 1),
                f"indent it by {level} spaces like '{name}:' if it is a key of the same mapping",
            )
    return error(
        "DG009",
        "a value contains ': ', which YAML reads as the start of another key",
        _at(file, mark),
        "a value containing ': ' must be quoted",
    )


def _missing_colon(exc, lines, file):
    if "could not find expected ':'" not in _problem(exc) or exc.context_mark is None:
        return None
    return error(
        "DG009",
        "this line has no ':' after its key",
        _at(file, exc.context_mark),
        "write 'key: value'; a line that continues a value must be indented more than its key",
    )


def _reserved_character(exc, lines, file):
    match = re.match(r"found character '(.)' that cannot start any token", _problem(exc))
    if match is None or exc.problem_mark is None:
        return None
    char = match.group(1)
    return error(
        "DG009",
        f"a value cannot start with '{char}' unless it is quoted",
        _at(file, exc.problem_mark),
        f'quote the value: "{char}…"',
    )


def _undefined_alias(exc, lines, file):
    match = re.match(r"found undefined alias '(.*)'", _problem(exc))
    if match is None or exc.problem_mark is None:
        return None
    name = match.group(1)
    return error(
        "DG009",
        f"'*{name}' refers to no anchor '&{name}' above it",
        _at(file, exc.problem_mark),
        "a value starting with '*' is an alias: quote it if you meant the text",
    )


# PyYAML's names for tokens no author writes, in words an author knows.
_TOKENS = {
    "'?'": "a key",
    "<block end>": "the end of an indented block",
    "<block mapping start>": "the start of a mapping (key: value lines)",
    "<block sequence start>": "the start of a list ('- ' lines)",
    "<stream end>": "the end of the file",
    "<stream start>": "the start of the file",
    "<document start>": "a document start ('---')",
    "<document end>": "a document end ('...')",
}


def _in_words(text: str) -> str:
    for token, words in _TOKENS.items():
        text = text.replace(token, words)
    return text


def _as_pyyaml_says(exc, file) -> Diagnostic:
    """PyYAML's own message, its token names said in words (an unknown shape)."""
    mark = exc.problem_mark or exc.context_mark
    where = _at(file, mark) if mark else Location(file)
    message = exc.problem or "invalid YAML"
    if exc.context:
        message = f"{message} ({exc.context})"
    return error("DG009", f"YAML syntax error: {_in_words(message)}", where)
