"""Stage 1, load: rule files to plain data that remembers where every node was.

PyYAML's safe loader is used only to *compose* the node tree; we build the
Python values ourselves so that we can

- record file:line:column for every value and every mapping key,
- refuse duplicated keys (PyYAML silently keeps the last one),
- bound alias expansion (a "billion laughs" file is refused, not expanded),
- keep YAML 1.1 surprises out: ``no``/``on`` stay strings, dates stay strings
  and decimals become ``Decimal`` so money in rules is exact.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
import yaml

from .diagnostics import Diagnostic, Location, did_you_mean, error
from .yaml_errors import yaml_error

KINDS = ("fields", "pipeline", "plan", "tests", "segments", "reps")

# A rule pack is small; a document that expands past this many nodes is an alias bomb.
MAX_NODES = 100_000
# Deeper nesting than this is a mistake or an attack; PyYAML would hit Python's recursion limit.
MAX_DEPTH = 100
# A rule file larger than this is generated or hostile, not written by people (the default pack's
# largest file is 5 KB): it is refused before it is read, as parsing and checking 10 MB would
# take minutes. 256 KB is some 10,000 fields.
MAX_FILE_BYTES = 256 * 1024
# A whole number with more digits than this is a typo (and int() refuses very long ones).
MAX_DIGITS = 100

Path_ = tuple  # a path into a document: keys and list indexes, as jsonschema reports them


@attrs.frozen
class Document:
    """One YAML document of a rule pack, with the location of each node."""

    kind: str
    data: Any
    file: str
    index: int  # position of the document within its file (multi-document files)
    value_locations: dict = attrs.field(repr=False, eq=False)
    key_locations: dict = attrs.field(repr=False, eq=False)
    scalar_styles: dict = attrs.field(repr=False, eq=False, factory=dict)
    scalar_sources: dict = attrs.field(repr=False, eq=False, factory=dict)  # path -> _ScalarSource

    def locate(self, path: Iterable = ()) -> Location:
        """The location of the value at ``path``, or of its nearest ancestor we know."""
        path = tuple(path)
        while path and path not in self.value_locations:
            path = path[:-1]
        return self.value_locations.get(path, Location(self.file, 1, 1))

    def locate_within(self, path: Iterable, offset: int) -> Location:
        """The location of the character at ``offset`` inside the string scalar at ``path``.

        Expressions are reported at the column of the offending token, so the offset into
        the *value* is mapped back through the scalar as written: quotes, escapes
        (``\\"``, ``''``), folded lines and block scalars (``|``, ``>``) included. When the
        mapping is impossible (not a string scalar) it falls back to the scalar's start.
        """
        path = tuple(path)
        start = self.locate(path)
        source = self.scalar_sources.get(path)
        if source is None:
            return start
        where = source.position(offset)
        return Location(start.file, *where) if where else start

    def locate_key(self, path: Iterable) -> Location:
        """The location of the mapping key that introduces ``path`` (its last element)."""
        path = tuple(path)
        return self.key_locations.get(path) or self.locate(path)


@attrs.frozen
class LoadResult:
    documents: list
    diagnostics: list


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2-like scalars: only true/false are booleans, no implicit timestamps."""


_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class Composer(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver):
    """PyYAML's node composer with dealgate's scalar rules and a nesting limit.

    Public because the reps file (engine/payout/reps.py) is read the same way as rules: compose
    with this, then turn the node tree into values with ``Builder``.
    """

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent, index):
        """PyYAML composes recursively: refuse deep nesting before Python's recursion limit does."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


class _Recursive(Exception):
    """An alias that refers to a node containing it: expanding it would never end."""

    def __init__(self, node):
        self.node = node


# Line breaks as PyYAML's reader counts them (a lone '\r' too), so columns agree with its marks.
_BREAKS = "\n\x85\u2028\u2029"
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


@attrs.frozen
class _ScalarSource:
    """A string scalar as written in the file, to map offsets in its value back to columns."""

    text: str  # the raw characters of the node, quotes and block header included
    style: str | None
    value: str
    line: int  # 1-based position of text[0]
    column: int

    def position(self, offset: int) -> tuple[int, int] | None:
        """(line, column) of value[offset]; an offset at the end means just after the last character."""
        columns = self._value_positions()
        if columns is None or not columns or offset < 0:
            return None
        if offset < len(columns):
            return columns[offset]
        line, column = columns[-1]
        return line, column + 1

    def _raw_positions(self) -> list[tuple[int, int]]:
        positions, line, column = [], self.line, self.column
        for i, ch in enumerate(self.text):
            positions.append((line, column))
            if ch in _BREAKS or (ch == "\r" and self.text[i + 1 : i + 2] != "\n"):
                line, column = line + 1, 1
            else:
                column += 1
        return positions

    def _tokens(self) -> list[tuple[str, int]]:
        """(character produced, index in text) for each piece of the raw text that yields content."""
        text, style = self.text, self.style
        if style in ("|", ">"):
            start = next((i + 1 for i, ch in enumerate(text) if ch in _BREAKS + "\r"), len(text))
            return [(ch, i) for i, ch in enumerate(text) if i >= start]
        if style == "'":
            tokens, i = [], 1
            while i < len(text) - 1:
                tokens.append((text[i], i))
                i += 2 if text[i : i + 2] == "''" else 1
            return tokens
        if style == '"':
            return _double_quoted_tokens(text)
        return [(ch, i) for i, ch in enumerate(text)]

    def _value_positions(self) -> list[tuple[int, int]] | None:
        """Align value characters with the raw tokens. Folding only ever turns line breaks and
        indentation into spaces, so every other character of the value appears in the tokens
        in order; whitespace the folding made up is placed on the next raw character."""
        raw, tokens = self._raw_positions(), self._tokens()
        result, j = [], 0
        for ch in self.value:
            if ch in " \t\n":
                if j < len(tokens) and tokens[j][0] == ch:
                    result.append(raw[tokens[j][1]])
                    j += 1
                else:
                    result.append(raw[tokens[min(j, len(tokens) - 1)][1]] if tokens else (self.line, self.column))
                continue
            while j < len(tokens) and tokens[j][0] != ch:
                j += 1
            if j == len(tokens):
                return None
            result.append(raw[tokens[j][1]])
            j += 1
        return result


def _double_quoted_tokens(text: str) -> list[tuple[str, int]]:
    tokens, i, end = [], 1, len(text) - 1
    while i < end:
        ch = text[i]
        if ch != "\\":
            tokens.append((ch, i))
            i += 1
            continue
        code = text[i + 1 : i + 2]
        if code in _ESCAPES:
            tokens.append((_ESCAPES[code], i))
            i += 2
        elif code in _HEX_ESCAPES:
            width = _HEX_ESCAPES[code]
            try:
                tokens.append((chr(int(text[i + 2 : i + 2 + width], 16)), i))
            except ValueError:
                pass
            i += 2 + width
        else:  # an escaped line break joins the lines and produces nothing
            i += 2
    return tokens


def _shown_tag(tag: str) -> str:
    """The tag as it was written: '!!set', not 'tag:yaml.org,2002:set'."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


def _mark_location(file: str, mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def _node_location(file: str, node) -> Location:
    """Where a node starts and, for a scalar on one line, where it ends: the caret spans the token."""
    start, end = node.start_mark, node.end_mark
    if isinstance(node, yaml.ScalarNode) and end is not None and end.line == start.line and end.column > start.column:
        return Location(file, start.line + 1, start.column + 1, end.column + 1)
    return _mark_location(file, start)


class Builder:
    """Turns one composed node tree into Python values plus location maps.

    ``values`` and ``keys`` map a path (a tuple of keys and indexes) to the Location of the value
    and of its key, so every later check can point at the line and column; ``diagnostics`` holds
    what building found (duplicate keys, tags, ...). Raises on alias bombs and cyclic aliases.
    """

    def __init__(self, file: str):
        self.file = file
        self.values: dict = {}
        self.keys: dict = {}
        self.styles: dict = {}
        self.sources: dict = {}
        self.diagnostics: list[Diagnostic] = []
        self.visited = 0
        self.active: set[int] = set()  # nodes being built: meeting one again means a cyclic alias

    def build(self, node, path: tuple = ()):
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooLarge()
        self.values[path] = _node_location(self.file, node)
        if isinstance(node, yaml.ScalarNode):
            return self._leaf(node, path)
        if id(node) in self.active:
            raise _Recursive(node)
        self._check_collection_tag(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def _leaf(self, node, path: tuple):
        if node.start_mark.line == node.end_mark.line:
            self.styles[path] = node.style
        value = self._scalar(node)
        if isinstance(value, str) and node.start_mark.buffer is not None:
            start, end = node.start_mark, node.end_mark
            self.sources[path] = _ScalarSource(
                start.buffer[start.pointer : end.pointer], node.style, value, start.line + 1, start.column + 1
            )
        return value

    def _check_collection_tag(self, node) -> None:
        """!!set, !!omap, !!python/... on a mapping or list: plain data only, as for scalars."""
        expected = "tag:yaml.org,2002:map" if isinstance(node, yaml.MappingNode) else "tag:yaml.org,2002:seq"
        if node.tag != expected:
            self.diagnostics.append(
                error(
                    "DG007",
                    f"unsupported YAML tag '{_shown_tag(node.tag)}'",
                    _mark_location(self.file, node.start_mark),
                    "rule files are plain data: remove the '!' tag",
                )
            )

    def _mapping(self, node, path: tuple) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            where = _node_location(self.file, key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(
                    error("DG006", "a mapping key must be a plain name, not a list or mapping", where)
                )
                continue
            if key_node.value == "<<" and key_node.style is None:
                self.diagnostics.append(
                    error(
                        "DG013",
                        "YAML merge keys ('<<') are not supported",
                        where,
                        "write the keys out in this mapping"
                        " (an anchor and alias of a whole value, '*name', still work)",
                    )
                )
                continue
            key = self._scalar(key_node)
            if key is None or isinstance(key, (bool, int, Decimal)):
                key = key_node.value
            key = str(key)
            if key in result:
                first = self.keys[path + (key,)]
                self.diagnostics.append(
                    error(
                        "DG005",
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        where,
                        "YAML would silently keep only the last value; remove or rename one of them",
                    )
                )
                continue
            self.keys[path + (key,)] = where
            result[key] = self.build(value_node, path + (key,))
        return result

    def _text(self, node, text: str) -> str:
        """A string scalar, unless a "\\udXXX" escape made half a UTF-16 pair: no file can hold that text."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # PyYAML leaves "\\ud83d\\ude00" (a pair, as JSON writers escape an emoji) as two halves: join them.
            try:
                return text.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeDecodeError:
                pass
            self.diagnostics.append(
                error(
                    "DG007",
                    "an unpaired surrogate escape (\\udXXX) is not a character",
                    _mark_location(self.file, node.start_mark),
                    "write the character itself, or \\U0001XXXX for one beyond U+FFFF",
                )
            )
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
        return text

    def _scalar(self, node):
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:str":
            return text if text.isascii() else self._text(node, text)
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            return self._integer(node)
        if tag == "tag:yaml.org,2002:float":
            try:
                value = Decimal(text.replace("_", ""))
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite():
                self.diagnostics.append(
                    error("DG007", f"'{text}' is not a finite number", _mark_location(self.file, node.start_mark))
                )
                return None
            return value
        self.diagnostics.append(
            error(
                "DG007",
                f"unsupported YAML tag '{_shown_tag(tag)}'",
                _mark_location(self.file, node.start_mark),
                "rule files are plain data: remove the '!' tag",
            )
        )
        return text

    def _integer(self, node) -> int | None:
        """YAML 1.2 integers: '017' is seventeen (not YAML 1.1's octal fifteen); 0o17, 0x1F, 0b11 as written."""
        text = node.value.replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        bases = {"0b": 2, "0o": 8, "0x": 16}
        base = bases.get(digits[:2].lower(), 10)
        if base != 10:
            digits = digits[2:]
        if not digits or len(digits) > MAX_DIGITS:
            shown = node.value if len(node.value) <= 20 else f"{node.value[:17]}..."
            self.diagnostics.append(
                error(
                    "DG007",
                    f"'{shown}' is not a usable whole number",
                    _mark_location(self.file, node.start_mark),
                    "write digits only, at most 100 of them" if digits else None,
                )
            )
            return None
        return sign * int(digits, base)


def _read_text(path: Path, shown: str) -> tuple[str | None, Diagnostic | None]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, error(
                "DG008",
                f"file is {size:,} bytes; a rule file holds at most {MAX_FILE_BYTES:,} bytes (refusing to load it)",
                Location(shown),
                "split it into several files of the pack, or remove what is generated",
            )
        raw = path.read_bytes()
    except OSError as exc:
        return None, error("DG001", f"cannot read file: {exc.strerror or exc}", Location(shown))
    if b"\x00" in raw:
        return None, error(
            "DG002", "this is a binary file, not YAML", Location(shown), "rule packs hold only .yaml/.yml text files"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        if line_start == 0 and raw.startswith(codecs.BOM_UTF8):
            line_start = len(codecs.BOM_UTF8)
        # Columns count characters, as the YAML reader's do, not bytes.
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        return None, error(
            "DG003",
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            Location(shown, line, column),
            "save the file as UTF-8",
        )
    return text, None


def load_text(text: str, file: str) -> LoadResult:
    """Parse YAML text (possibly several documents) into Documents and diagnostics. Never raises."""
    documents: list[Document] = []
    diagnostics: list[Diagnostic] = []
    if _is_blank(text):
        return LoadResult([], [_empty(file)])
    try:
        composer = Composer(text)
        index = 0
        while composer.check_node():
            node = composer.get_node()
            index += 1
            if node is None or _is_empty_node(node):
                continue  # an empty document ('---' alone) holds nothing to check
            document = _build_document(node, file, index, diagnostics)
            if document is not None:
                documents.append(document)
    except _TooDeep as deep:
        diagnostics.append(
            error(
                "DG008",
                f"nested more than {MAX_DEPTH} levels deep; refusing to load it",
                _mark_location(file, deep.mark),
                "rule files are shallow: check the brackets",
            )
        )
    except yaml.MarkedYAMLError as exc:
        diagnostics.append(yaml_error(exc, text, file))
    except yaml.reader.ReaderError as exc:  # control characters, lone surrogates
        diagnostics.append(
            error(
                "DG009",
                f"character U+{exc.character:04X} is not allowed in YAML",
                _offset_location(text, file, exc.position),
                "remove it, or write it as an escape in a double-quoted string",
            )
        )
    except yaml.YAMLError as exc:
        diagnostics.append(error("DG009", f"YAML error: {exc}", Location(file)))
    if not documents and not diagnostics:
        diagnostics.append(_empty(file))
    return LoadResult(documents, diagnostics)


def _build_document(node, file: str, index: int, diagnostics: list) -> Document | None:
    builder = Builder(file)
    try:
        data = builder.build(node)
    except _TooLarge:
        diagnostics.append(
            error(
                "DG008",
                f"document expands to more than {MAX_NODES:,} nodes; refusing to load it",
                _mark_location(file, node.start_mark),
                "aliases (*name) nest too deeply: this looks like a 'billion laughs' file",
            )
        )
        return None
    except _Recursive as loop:
        diagnostics.append(
            error(
                "DG008",
                "an alias refers to the node that contains it, so it would never end",
                _mark_location(file, loop.node.start_mark),
                "an alias (*name) must not point inside its own anchor",
            )
        )
        return None
    diagnostics.extend(builder.diagnostics)
    return _make_document(data, file, index, builder, diagnostics)


def _is_blank(text: str) -> bool:
    """Nothing but whitespace and comments (a BOM included)."""
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.lstrip("\ufeff").splitlines())


def _is_empty_node(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value == ""


def _empty(file: str) -> Diagnostic:
    return error(
        "DG004",
        "file is empty",
        Location(file, 1, 1),
        "a rule file needs at least 'kind:' and its content; delete the file if unused",
    )


def _offset_location(text: str, file: str, offset: int) -> Location:
    line = text.count("\n", 0, offset) + 1
    return Location(file, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _make_document(data, file: str, index: int, builder: Builder, diagnostics: list) -> Document | None:
    where = builder.values.get((), Location(file, 1, 1))
    if not isinstance(data, dict):
        diagnostics.append(
            error(
                "DG010",
                "a rule document must be a mapping with a 'kind' key",
                where,
                f"start the document with 'kind: <{'|'.join(KINDS)}>'",
            )
        )
        return None
    kind = data.get("kind")
    if kind not in KINDS:
        if kind is None:
            message = "'kind' is empty" if "kind" in data else "document has no 'kind'"
            diagnostics.append(
                error(
                    "DG010", message, builder.keys.get(("kind",), where), f"add 'kind:' with one of: {', '.join(KINDS)}"
                )
            )
        elif isinstance(kind, (list, dict)):
            diagnostics.append(
                error(
                    "DG011",
                    "'kind' must be a name, not a list or mapping",
                    builder.values[("kind",)],
                    f"use one of: {', '.join(KINDS)}",
                )
            )
        else:
            diagnostics.append(
                error(
                    "DG011",
                    f"unknown document kind '{kind}'",
                    builder.values[("kind",)],
                    did_you_mean(str(kind), KINDS) or f"use one of: {', '.join(KINDS)}",
                )
            )
        return None
    return Document(kind, data, file, index, builder.values, builder.keys, builder.styles, builder.sources)


def load_file(path: Path, shown: str | None = None) -> LoadResult:
    shown = shown or str(path)
    text, problem = _read_text(path, shown)
    if problem or text is None:
        return LoadResult([], [problem] if problem else [])
    return load_text(text, shown)


def rule_files(root: Path) -> Iterator[Path]:
    """The YAML files of a pack directory, in a stable order, skipping hidden folders."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                yield Path(dirpath) / name


def load_paths(paths: Iterable[Path]) -> LoadResult:
    """Load files and directories; a missing path is the caller's problem (exit code 2)."""
    documents: list[Document] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        files = list(rule_files(path)) if path.is_dir() else [path]
        if path.is_dir() and not files:
            diagnostics.append(error("DG012", "no .yaml or .yml files in this directory", Location(str(path))))
        for file in files:
            result = load_file(file, _display(file))
            documents.extend(result.documents)
            diagnostics.extend(result.diagnostics)
    return LoadResult(documents, diagnostics)


def _display(path: Path) -> str:
    """Paths relative to the working directory when possible: what editors and CI annotations want."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
