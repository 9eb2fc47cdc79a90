"""The model of a segments document: the account record it reads and the tiers it assigns.

The account fields reuse the deal fields' model (``engine.model.Field``/``FieldSet``), so that an
accounts export is read by the same reader, with the same column matching, types, defaults and
rejects as a deal export.
"""

from __future__ import annotations

import attrs

from .. import types as T
from ..diagnostics import Location
from ..load import Document
from ..model import Expr, FieldSet, _build_fields

# What the deals export adds to each account: name -> (type, what it is). The expressions of the
# tiers read these like account fields; they are null when no deals export is given.
AGGREGATES = {
    "deals": (T.INT, "deals of the account, any stage"),
    "open_deals": (T.INT, "deals at an open stage"),
    "won_deals": (T.INT, "deals at a won stage"),
    "lost_deals": (T.INT, "deals at a lost stage"),
    "open_pipeline": (T.MONEY, "sum of the amounts of the open deals (blank amounts count nothing)"),
    "weighted_pipeline": (T.MONEY, "sum of amount x stage probability over the open deals"),
    "won_amount": (T.MONEY, "sum of the amounts of the won deals"),
    "lost_amount": (T.MONEY, "sum of the amounts of the lost deals"),
}
DEFAULT_KEY = "id"


@attrs.frozen
class Tier:
    id: str
    when: Expr | None  # None for the default tier
    name: str | None = None
    why: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Segments:
    """The account fields, the key deals are matched on, the tiers in order and the default tier."""

    fields: FieldSet
    key: str
    tiers: tuple  # Tier, in order: the first whose 'when' holds wins
    default: Tier
    document: Document = attrs.field(repr=False, eq=False)
    key_location: Location | None = attrs.field(default=None, eq=False)

    @property
    def all_tiers(self) -> tuple:
        """Every tier an account can get, the default last."""
        return self.tiers + (self.default,)


def build_segments(document: Document) -> Segments:
    data = document.data
    tiers = tuple(
        Tier(
            spec["id"],
            Expr(spec["when"], document, ("tiers", i, "when")),
            spec.get("name"),
            spec.get("why"),
            document.locate(("tiers", i)),
        )
        for i, spec in enumerate(data["tiers"])
    )
    default = data["default"]
    return Segments(
        # The 'fields' and 'date_formats' of a segments document are written as in the fields document.
        fields=_build_fields(document),
        key=data.get("key", DEFAULT_KEY),
        tiers=tiers,
        default=Tier(default["id"], None, default.get("name"), default.get("why"), document.locate(("default",))),
        document=document,
        key_location=document.locate(("key",)) if "key" in data else document.locate(),
    )
