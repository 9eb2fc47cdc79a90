"""The report: every analysis of one export gathered for one page (``dealgate report``).

Nothing here computes a number of its own. The scored deals and their summary come from
``engine.score`` (as ``dealgate score`` makes them), the forecast and coverage from
``engine.forecast.forecast``, the calibration from ``engine.forecast.calibrate``, the movement from
``engine.forecast.movement`` and the payouts from ``engine.payout``: the report shows what those
commands print, by construction. What this package adds is the grouping a page needs and a
command does not: the deals behind each bar of the verdict and qualify-out charts.

``build_report`` returns a ``Report``, plain data; ``engine.render.report_html`` draws it.
"""

from .build import build_report
from .model import DealGroup, DealRow, Report, Source

__all__ = ["DealGroup", "DealRow", "Report", "Source", "build_report"]
