"""Several exports read as one stream of deal records."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from .. import progress
from .errors import Reject
from .json import RecordsPath
from .reader import ExportReader


@attrs.define
class StreamCounts:
    """Records in = deals + rejected, across every export of a stream."""

    read: int = 0
    deals: int = 0
    rejected: int = 0


@attrs.define
class ExportStream:
    """Several exports read as one stream of deal records, in order.

    Rejects are counted and handed to ``on_reject(source, reject)`` as they are met (a
    bad export may have millions: nothing holds them); warnings and fields without a
    column are kept per source. Scoring, payouts and diffs all read through this.
    """

    analysis: object
    sources: list
    on_reject: Callable[[str, Reject], None] | None = None
    fmt: str | None = None
    delimiter: str | None = None
    strict: bool = False
    records_path: RecordsPath | None = None  # where a JSON export's records are (engine.read.json)
    counts: StreamCounts = attrs.field(factory=StreamCounts)
    warnings: list = attrs.field(factory=list)  # (source name, ReadWarning)
    missing_fields: dict = attrs.field(factory=dict)  # source name -> declared fields with no column
    meter: progress.Meter | None = attrs.field(
        factory=progress.current
    )  # the run's progress meter (engine.progress), or None

    def records(self) -> Iterator[tuple[int, str, int, dict]]:
        """(source position, source name, line, deal) for every record that could be read."""
        counts, on_reject, meter = self.counts, self.on_reject, self.meter
        for position, source in enumerate(self.sources):
            reader = ExportReader(
                self.analysis,
                source,
                fmt=self.fmt,
                delimiter=self.delimiter,
                strict=self.strict,
                records_path=self.records_path,
            )
            name = reader.source_name
            deals = 0  # counted here and added as the export ends: an attribute per row costs
            records = reader.records()
            if meter is not None:  # only when a display is watching: a generator more per row
                meter.reading(reader)
                records = meter.counted(records)
            try:
                for line, record in records:
                    if type(record) is Reject:
                        counts.read += 1
                        counts.rejected += 1
                        if on_reject is not None:
                            on_reject(name, record)
                        continue
                    deals += 1
                    yield position, name, line, record  # type: ignore[misc]  # a dict: rejects went above
            finally:
                counts.read += deals
                counts.deals += deals
                reader.close()
                if meter is not None:
                    meter.finished(reader)
                self.warnings.extend((name, w) for w in reader.warnings)
                self.missing_fields[name] = list(reader.missing_fields)
