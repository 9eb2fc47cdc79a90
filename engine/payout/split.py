"""Split statements: a rep's assignments to one plan that change inside a period, each paid on its own.

With ``mid_period_change: split`` a plan computes each of a rep's rows on it as its own rep: the
credits dated in its days, its quota prorated to them, its own tiers, caps, gates and milestones
(and its own carried state: what its deals were paid, for clawbacks; its earlier periods, for
attainment to date). A period in which several rows fall is then one statement whose lines are
the parts' lines in date order, each note naming its part, and whose total is the sum of the
parts' totals -- so a split statement is the sum of its parts, to the cent, by construction.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from .assignments import Part, _pct
from .statement import Statement

ZERO = Decimal(0)
CENT = Decimal("0.01")


def merge_parts(parts: list) -> list:
    """The statements of each part (a list per part, in date order), merged period by period."""
    by_period: dict = {}
    for index, statements in enumerate(parts, 1):
        for s in statements:
            by_period.setdefault(s.period, []).append((index, s))
    return [_merged(members) if len(members) > 1 else members[0][1] for _, members in sorted(by_period.items())]


def _merged(members: list) -> Statement:
    first = members[0][1]
    lines: list = []
    notes: list[str] = []
    credits: list = []
    quota = credit = ZERO
    known_quota = True
    for index, s in members:
        label = f"part {index}" + (f" ({s.part.start} to {s.part.last})" if s.part is not None else "")
        lines.extend(line._replace(note=f"{label}: {line.note}" if line.note else label) for line in s.lines)
        credits.extend(s.credits)
        credit += s.credit
        if s.quota is None:
            known_quota = False
        else:
            quota += s.quota
        what = ", ".join(x for x in (s.part.role, s.part.territory) if x) if s.part is not None else ""
        notes.append(
            f"{label}{' ' + what if what else ''}: quota "
            + ("none" if s.quota is None else f"{s.quota.quantize(CENT):,}")
            + f", credit {s.credit:,}, attainment {'-' if s.attainment is None else _pct(s.attainment)}, "
            f"total {s.total:,}"
        )
        notes.extend(f"{label}: {note}" for note in s.notes if not note.startswith("assignment:"))
    last = members[-1][1]
    others = tuple(dict.fromkeys(other for _, s in members if s.part is not None for other in s.part.others))
    part = Part(first.part.start, last.part.last, last.part.role, last.part.territory, others) if first.part else None
    head = (
        f"split statement: {len(members)} assignments to plan {first.plan} in {first.period.label}, each paid on "
        f"its own quota and attainment (mid_period_change: split)"
    )
    return attrs.evolve(
        first,
        lines=tuple(lines),
        total=sum((line.amount for line in lines), ZERO),
        quota=quota if known_quota else None,
        credit=credit,
        attainment=None,  # one per part: in the notes
        credits=tuple(credits),
        credit_to_date=None,
        draw_balance=None,
        notes=(head, *notes),
        tiers=None,
        part=part,
    )
