"""A gate's readings per minute as a small bar chart, its geometry computed here.

Why on the server, like the supervisors' charts (ztl.web.supervisor.charts): the
Content-Security-Policy forbids inline scripts and style attributes, so the page writes only SVG
presentation attributes (x, y, width, height), colours coming from static/css/situation-room.css.
The live page's script receives the same geometry in each event and only sets `y` and `height`:
the drawing is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_WIDTH = 3
STEP = 4  # bar and gap, viewBox units
HEIGHT = 32


@dataclass(frozen=True, slots=True)
class SparkBar:
    x: int
    y: int
    height: int


def spark_bars(series: Sequence[int]) -> list[SparkBar]:
    """Bars scaled to the series' own peak; a minute with any reading is at least one unit tall."""
    peak = max(series, default=0)
    bars = []
    for index, value in enumerate(series):
        height = max(1, round(HEIGHT * value / peak)) if value and peak else 0
        bars.append(SparkBar(x=index * STEP, y=HEIGHT - height, height=height))
    return bars


def spark_width(minutes: int) -> int:
    return minutes * STEP
