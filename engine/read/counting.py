"""The byte stream under an export's text, counted, for the line and offset of a decoding error."""

from __future__ import annotations

import io


class CountingReader(io.RawIOBase):
    """The bytes under the text decoder, counted, so a decoding error can name its line.

    A UnicodeDecodeError carries the bytes being decoded (the tail of what has been read
    so far) and the bad position in them; with the total read and the line breaks seen,
    that gives the byte offset and the line in the file.
    """

    def __init__(self, raw):
        super().__init__()
        self.raw = raw
        self.read_some = getattr(raw, "read1", raw.read)  # read1: no waiting for a full chunk on a pipe
        self.total = 0
        self.newlines = 0
        self.returns = 0
        self.head = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.read_some(len(buffer))
        if not data:
            return 0
        size = len(data)
        buffer[:size] = data
        if self.total == 0:
            self.head = bytes(data[:4])
        self.total += size
        self.newlines += data.count(b"\n")
        self.returns += data.count(b"\r")
        return size

    def locate(self, exc: UnicodeDecodeError) -> tuple[int, int]:
        """(byte offset, line) of the first byte the decoder refused."""
        tail = exc.object[exc.start :]
        offset = self.total - len(tail)
        if self.newlines:
            breaks = self.newlines - tail.count(b"\n")
        else:
            breaks = self.returns - tail.count(b"\r")
        return offset, breaks + 1
