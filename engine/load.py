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

import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Iterator

import attrs
import yaml

from .diagnostics import Diagnostic, Location, did_you_mean, error

KINDS = ("fields", "pipeline", "plan", "tests")

# A rule pack is small; a document that expands past this many nodes is an alias bomb.
MAX_NODES = 100_000

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

    def locate(self, path: Iterable = ()) -> Location:
        """The location of the value at ``path``, or of its nearest ancestor we know."""
        path = tuple(path)
        while path and path not in self.value_locations:
            path = path[:-1]
        return self.value_locations.get(path, Location(self.file, 1, 1))

    def locate_within(self, path: Iterable, offset: int) -> Location:
        """The location of the character at ``offset`` inside the scalar at ``path``.

        Exact for one-line plain and quoted scalars (what expressions almost always are);
        for block scalars it falls back to the scalar's start.
        """
        path = tuple(path)
        start = self.locate(path)
        style = self.scalar_styles.get(path, "?")
        if style in (None, "", "'", '"'):
            return Location(start.file, start.line, start.column + offset + (1 if style else 0))
        return start

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
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class _Composer(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver):
    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


class _TooLarge(Exception):
    pass


def _mark_location(file: str, mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


class _Builder:
    """Turns one composed node tree into Python values plus location maps."""

    def __init__(self, file: str):
        self.file = file
        self.values: dict = {}
        self.keys: dict = {}
        self.styles: dict = {}
        self.diagnostics: list[Diagnostic] = []
        self.visited = 0

    def build(self, node, path: tuple = ()):
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooLarge()
        self.values[path] = _mark_location(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        if node.start_mark.line == node.end_mark.line:
            self.styles[path] = node.style
        return self._scalar(node)

    def _mapping(self, node, path: tuple) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            where = _mark_location(self.file, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(error("DG006", "a mapping key must be a plain name, not a list or mapping", where))
                continue
            key = self._scalar(key_node)
            if key is None or isinstance(key, (bool, Decimal)):
                key = key_node.value
            key = str(key)
            if key in result:
                first = self.keys[path + (key,)]
                self.diagnostics.append(error(
                    "DG005", f"duplicate key '{key}' (first defined at line {first.line})", where,
                    "YAML would silently keep only the last value; remove or rename one of them",
                ))
                continue
            self.keys[path + (key,)] = where
            result[key] = self.build(value_node, path + (key,))
        return result

    def _scalar(self, node):
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:str":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            return yaml.constructor.SafeConstructor.construct_yaml_int(_NO_SELF, node)
        if tag == "tag:yaml.org,2002:float":
            try:
                value = Decimal(text.replace("_", ""))
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite():
                self.diagnostics.append(error("DG007", f"'{text}' is not a finite number",
                                              _mark_location(self.file, node.start_mark)))
                return None
            return value
        self.diagnostics.append(error(
            "DG007", f"unsupported YAML tag '{tag}'", _mark_location(self.file, node.start_mark),
            "rule files are plain data: remove the '!' tag",
        ))
        return text


class _NoSelf:
    """construct_yaml_int only needs ``construct_scalar``; give it that and nothing else."""

    def construct_scalar(self, node):
        return node.value


_NO_SELF = _NoSelf()


def _read_text(path: Path, shown: str) -> tuple[str | None, Diagnostic | None]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, error("DG001", f"cannot read file: {exc.strerror or exc}", Location(shown))
    if b"\x00" in raw:
        return None, error("DG002", "this is a binary file, not YAML", Location(shown),
                           "rule packs hold only .yaml/.yml text files")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, error("DG003", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                           Location(shown, line, column), "save the file as UTF-8")
    if not text.strip() or all(not l.strip() or l.lstrip().startswith("#") for l in text.splitlines()):
        return None, error("DG004", "file is empty", Location(shown, 1, 1),
                           "a rule file needs at least 'kind:' and its content; delete the file if unused")
    return text, None


def load_text(text: str, file: str) -> LoadResult:
    """Parse YAML text (possibly several documents) into Documents and diagnostics."""
    documents: list[Document] = []
    diagnostics: list[Diagnostic] = []
    composer = _Composer(text)
    index = 0
    try:
        while composer.check_node():
            node = composer.get_node()
            index += 1
            if node is None:
                continue
            builder = _Builder(file)
            try:
                data = builder.build(node)
            except _TooLarge:
                diagnostics.append(error(
                    "DG008", f"document expands to more than {MAX_NODES:,} nodes; refusing to load it",
                    _mark_location(file, node.start_mark),
                    "aliases (*name) nest too deeply: this looks like a 'billion laughs' file",
                ))
                continue
            diagnostics.extend(builder.diagnostics)
            document = _make_document(data, file, index, builder, diagnostics)
            if document is not None:
                documents.append(document)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _mark_location(file, mark) if mark else Location(file)
        message = exc.problem or "invalid YAML"
        if exc.context:
            message = f"{message} ({exc.context})"
        diagnostics.append(error("DG009", f"YAML syntax error: {message}", where, _syntax_hint(message)))
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        diagnostics.append(error("DG009", f"YAML error: {exc}", Location(file)))
    return LoadResult(documents, diagnostics)


def _syntax_hint(message: str) -> str | None:
    if "tab" in message:
        return "indent with spaces; YAML does not allow tabs"
    if "mapping values are not allowed" in message:
        return "a value containing ': ' must be quoted"
    if "could not find expected ':'" in message:
        return "each line of a mapping needs 'key: value'"
    return None


def _make_document(data, file: str, index: int, builder: _Builder, diagnostics: list) -> Document | None:
    where = builder.values.get((), Location(file, 1, 1))
    if not isinstance(data, dict):
        diagnostics.append(error("DG010", "a rule document must be a mapping with a 'kind' key", where,
                                 f"start the document with 'kind: <{'|'.join(KINDS)}>'"))
        return None
    kind = data.get("kind")
    if kind not in KINDS:
        if kind is None:
            diagnostics.append(error("DG010", "document has no 'kind'", where,
                                     f"add 'kind:' with one of: {', '.join(KINDS)}"))
        else:
            diagnostics.append(error("DG011", f"unknown document kind '{kind}'", builder.values[("kind",)],
                                     did_you_mean(str(kind), KINDS) or f"use one of: {', '.join(KINDS)}"))
        return None
    return Document(kind, data, file, index, builder.values, builder.keys, builder.styles)


def load_file(path: Path, shown: str | None = None) -> LoadResult:
    shown = shown or str(path)
    text, problem = _read_text(path, shown)
    if problem:
        return LoadResult([], [problem])
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
