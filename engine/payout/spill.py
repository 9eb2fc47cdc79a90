"""Credits kept by rep between the crediting pass and the statements, on disk once they are many.

Statements need all of one rep's credits, and only that rep's; but credits come in export order,
one rep's scattered over the whole file. Held in lists until the last deal is read, a million
deals' credits (and then every statement made of them) were most of a payout's memory. Here the
credits are held in memory while they are few; past ``limit`` they are written out, in batches,
to one temporary file, each batch cut into buckets: ranges of reps in output order. Statements
are then computed bucket by bucket (``take``), so only one bucket's credits are ever back in
memory, and the statements come out in the order they always had.

On disk a credit is a plain tuple of strings and integers (a Decimal as its exact text, a date as
its ordinal), pickled a batch at a time: pickling the Decimals and dates themselves costs several
times more. The text of a Decimal gives it back digit for digit, exponent included.
"""

from __future__ import annotations

import datetime as dt
import pickle
import tempfile
from decimal import Decimal
from typing import IO

from .credit import ONE, Credited

HELD = 100_000  # credits held in memory before they go to disk (about 40 MB of them)
BUCKETS = 256  # at most this many ranges of reps: a bucket holds about 1/256 of the credits


class CreditStore:
    """Credits by plan and rep, for ``buckets`` ranges of the reps in ``order`` (their output order).

    The crediting loop appends to the lists of ``plan(plan_id)`` directly (it is the hot loop) and
    calls ``spill`` when ``held`` passes ``limit``; ``take(bucket)`` then gives one bucket's credits
    back, from disk and memory, and forgets them.
    """

    def __init__(self, order: list, limit: int | None = HELD, buckets: int = BUCKETS):
        self.count = max(1, min(len(order), buckets))
        self.bucket_of = {rep_id: index * self.count // max(len(order), 1) for index, rep_id in enumerate(order)}
        self.limit = limit
        self.memory: dict = {}  # plan id -> {rep id -> [Credited]}
        self.written = 0  # credits on disk
        self.file: IO[bytes] | None = None
        self.index: list[list[tuple[int, int]]] = [[] for _ in range(self.count)]  # bucket -> (offset, size)
        self.largest = 0  # most credits taken back at once: what the tests of bounded memory look at
        self.most_held = 0  # most credits in memory when a spill began

    def plan(self, plan_id: str) -> dict:
        """The in-memory credits of ``plan_id``: rep id -> list, appended to by the crediting loop."""
        return self.memory.setdefault(plan_id, {})

    def spill(self) -> None:
        """Write every credit held in memory to the temporary file, bucket by bucket, and let them go."""
        batches: list[list] = [[] for _ in range(self.count)]
        self.most_held = max(self.most_held, sum(len(c) for reps in self.memory.values() for c in reps.values()))
        bucket_of = self.bucket_of
        for plan_id, reps in self.memory.items():
            for rep_id, credits in reps.items():
                if credits:
                    batches[bucket_of[rep_id]].append((plan_id, rep_id, [_packed(c) for c in credits]))
                    self.written += len(credits)
            reps.clear()  # in place: the crediting loop holds these dicts
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="dealgate-credits-")
        file = self.file
        for bucket, batch in enumerate(batches):
            if batch:
                data = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
                self.index[bucket].append((file.tell(), len(data)))
                file.write(data)

    @property
    def spilled(self) -> bool:
        return self.file is not None

    def take(self, bucket: int, keys) -> dict:
        """(plan id, rep id) -> the credits of that pair, for the ``keys`` of ``bucket``; then forgotten."""
        found: dict = {}
        if self.index[bucket]:
            assert self.file is not None
            self.file.flush()
            for offset, size in self.index[bucket]:
                self.file.seek(offset)
                for plan_id, rep_id, packed in pickle.loads(self.file.read(size)):
                    found.setdefault((plan_id, rep_id), []).extend(map(_unpacked, packed))
            self.index[bucket] = []
            self.file.seek(0, 2)  # back to the end, where the next spill writes
        for plan_id, rep_id in keys:
            held = self.memory.get(plan_id, {}).pop(rep_id, None)
            if held:
                found.setdefault((plan_id, rep_id), []).extend(held)
        self.largest = max(self.largest, sum(map(len, found.values())))
        return found

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def _packed(c: tuple) -> tuple:
    """A credit as a tuple of plain values (see the module docstring); ``_unpacked`` reverses it."""
    date, deal, seq, amount, share, role, deal_credit, factor, multipliers, bonuses, cancelled, paid_on, fx = c
    return (
        date.toordinal(),
        deal,
        seq,
        str(amount),
        None if share is ONE else _value(share),
        role,
        None if deal_credit is amount else _value(deal_credit),
        None if factor is ONE else _value(factor),
        multipliers,
        tuple((b, _value(v)) for b, v in bonuses) if bonuses else bonuses,
        None if cancelled is None else _value(cancelled),  # most are None: no call for them
        None if paid_on is None else _value(paid_on),
        None if fx is None else tuple(_value(v) for v in fx),
    )


def _unpacked(t: tuple) -> Credited:
    date, deal, seq, amount, share, role, deal_credit, factor, multipliers, bonuses, cancelled, paid_on, fx = t
    amount = Decimal(amount)
    return tuple.__new__(
        Credited,
        (
            dt.date.fromordinal(date),
            deal,
            seq,
            amount,
            ONE if share is None else _restored(share),
            role,
            amount if deal_credit is None else _restored(deal_credit),
            ONE if factor is None else _restored(factor),
            multipliers,
            tuple((b, _restored(v)) for b, v in bonuses) if bonuses else bonuses,
            None if cancelled is None else _restored(cancelled),
            None if paid_on is None else _restored(paid_on),
            None if fx is None else tuple(_restored(v) for v in fx),
        ),
    )


# A value of any other field: Decimals and dates tagged, so that they come back as they were.
_DECIMAL, _DATE = "\x00d", "\x00t"


def _value(value):
    kind = value.__class__
    if kind is Decimal:
        return (_DECIMAL, str(value))
    if kind is dt.date:
        return (_DATE, value.toordinal())
    return value  # None, str, int, a datetime (pickled as it is)


def _restored(value):
    if value.__class__ is tuple and len(value) == 2 and value[0] in (_DECIMAL, _DATE):
        return Decimal(value[1]) if value[0] == _DECIMAL else dt.date.fromordinal(value[1])
    return value
