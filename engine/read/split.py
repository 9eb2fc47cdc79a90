"""Where a CSV or JSONL export can be cut into parts that are read apart (by several processes).

A cut must fall between records. A quoted cell may hold line breaks, so not every line break
ends a record; but in well-formed CSV a line break ends one exactly when the number of quote
characters before it is even (an escaped quote is two). ``split_csv`` therefore cuts after
the first line feed past each target offset that has an even number of quotes before it.

That rule is a guess wherever the file has a quote left open: the reader then rejects the
record and reads its lines again (engine.read.csv), which the count of quotes cannot know.
So a cut is only trusted after the fact: the part before it must read to its end without a
record running into that end (engine.parts checks; a part that does not makes the whole run
start again in one process). Reading the parts is exact; choosing them is only a heuristic.

Each part also carries the physical line its first byte is on, counted the way the reader
counts (``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line), so that the records of every
part carry the line numbers of the whole file.
"""

from __future__ import annotations

import io
import os

import attrs

CHUNK = 1 << 22  # bytes scanned at a time


@attrs.frozen
class Part:
    """Bytes ``start`` to ``end`` of an export; ``line`` is the physical line ``start`` is on."""

    start: int
    end: int
    line: int


def split_csv(path: str | os.PathLike, parts: int, min_bytes: int, *, chunk: int = CHUNK) -> list[Part]:
    """``path`` cut into at most ``parts`` parts of at least ``min_bytes`` each (about equal in size).

    The first part starts at byte 0 (it holds the header); a file too small to cut is one part.
    """
    return _split(path, parts, min_bytes, chunk, quoted=True)


def split_lines(path: str | os.PathLike, parts: int, min_bytes: int, *, chunk: int = CHUNK) -> list[Part]:
    """``split_csv`` for JSONL: every line is a record (JSON text holds no raw line break), so a cut
    falls after the first line feed past each target."""
    return _split(path, parts, min_bytes, chunk, quoted=False)


def _split(path, parts: int, min_bytes: int, chunk: int, quoted: bool) -> list[Part]:
    size = os.path.getsize(path)
    count = max(1, min(parts, size // max(min_bytes, 1)))
    targets = [size * k // count for k in range(1, count)]
    cuts = _cuts(path, targets, chunk, quoted) if targets else []
    starts = [(0, 1), *cuts]
    ends = [offset for offset, _ in cuts] + [size]
    return [Part(start, end, line) for (start, line), end in zip(starts, ends) if end > start]


def _cuts(path, targets: list[int], chunk_size: int, quoted: bool) -> list[tuple[int, int]]:
    """(offset, line) of the cut after each target: after the first line feed at or past it with an even
    number of quotes before it. Targets whose cut would fall at the end of the file are dropped."""
    cuts: list[tuple[int, int]] = []
    quotes = lines = 0  # in the bytes before ``offset``
    offset = 0
    carriage = False  # the byte before ``offset`` is a carriage return (a \r\n across two chunks is one break)
    pending = iter(targets)
    target = next(pending, None)
    with open(path, "rb") as raw:
        while target is not None:
            chunk = raw.read(chunk_size)
            if not chunk:
                break
            position = 0  # within the chunk: everything before it is counted
            while target is not None:
                search = max(position, target - offset)
                newline = chunk.find(b"\n", search)
                if newline < 0:
                    break
                if quoted:
                    quotes += chunk.count(b'"', position, newline + 1)
                lines += _line_breaks(chunk, position, newline + 1, carriage)
                carriage = False
                position = newline + 1
                if quotes % 2 == 0:
                    cuts.append((offset + position, lines + 1))
                    target = next(pending, None)
                    while target is not None and target < offset + position:
                        target = next(pending, None)
            if quoted:
                quotes += chunk.count(b'"', position)
            lines += _line_breaks(chunk, position, len(chunk), carriage)
            carriage = chunk.endswith(b"\r")
            offset += len(chunk)
    return cuts


def _line_breaks(chunk: bytes, start: int, end: int, carriage_before: bool) -> int:
    """Line breaks in ``chunk[start:end]`` as a text reader with ``newline=''`` splits lines."""
    breaks = chunk.count(b"\n", start, end) + chunk.count(b"\r", start, end) - chunk.count(b"\r\n", start, end)
    if carriage_before and end > start and chunk[start : start + 1] == b"\n":
        breaks -= 1  # the \n of a \r\n whose \r ended the previous chunk
    return breaks


def line_start(path: str | os.PathLike, line: int, chunk_size: int = 1 << 16) -> int:
    """The byte offset where physical ``line`` starts (the end of the file if it has fewer lines), lines
    ending as the reader splits them. For the header a part after the first reads before its own bytes."""
    breaks, offset, carriage = 0, 0, False
    with open(path, "rb") as raw:
        while breaks < line - 1:
            chunk = raw.read(chunk_size)
            if not chunk:
                break
            for index in range(len(chunk)):
                byte = chunk[index]
                if carriage and byte != 10:  # a lone \r ended the line before this byte
                    breaks += 1
                    if breaks == line - 1:
                        return offset + index
                carriage = byte == 13
                if byte == 10:
                    breaks += 1
                    if breaks == line - 1:
                        return offset + index + 1
            offset += len(chunk)
    return offset  # the file ends first (a lone \r at its very end ends a line there too)


class ByteRange(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file, after ``prefix``: a part of an export, with a header before it.

    ``name`` is the export's path, so the reader names the file its records come from.
    """

    def __init__(self, path: str, start: int, end: int, prefix: bytes = b""):
        super().__init__()
        self.name = path
        self._file = open(path, "rb")  # closed by close()
        self._file.seek(start)
        self._left = end - start
        self._prefix = prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        if self._left <= 0:
            return 0
        data = self._file.read(min(len(buffer), self._left))
        size = len(data)
        buffer[:size] = data
        self._left -= size
        return size

    def close(self) -> None:
        self._file.close()
        super().close()
