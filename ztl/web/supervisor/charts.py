"""Horizontal bar charts drawn on the server as inline SVG, with the same figures for a table.

Why on the server: the Content-Security-Policy forbids inline scripts and style attributes, so there
is no charting library in the browser; the geometry is computed here and the template writes only
SVG presentation attributes (x, y, width, height), the colours coming from static/css/charts.css.
The chart is one image for assistive technology (role="img") whose name carries every figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640  # viewBox units; the CSS scales the chart to its column
LABEL_RIGHT = 230  # labels are right-aligned at this x
BAR_LEFT = 240
BAR_MAX = 340  # the longest bar; room remains on its right for the figure
ROW = 32
BAR_HEIGHT = 20
PADDING = 6
LABEL_CHARS = 30  # longer labels are shortened in the picture (the table has them whole)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int

    @property
    def short_label(self) -> str:
        if len(self.label) <= LABEL_CHARS:
            return self.label
        return self.label[: LABEL_CHARS - 1].rstrip() + "…"

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 5

    @property
    def value_x(self) -> int:
        return BAR_LEFT + self.width + 8


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW + 2 * PADDING

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    @property
    def aria_label(self) -> str:
        """The title and every figure: the chart means the same to someone who cannot see it."""
        figures = "; ".join(f"{bar.label}: {bar.value}" for bar in self.bars)
        return f"{self.title}. {figures}" if figures else self.title

    # Constants the template needs, so the geometry lives in one place.
    width = WIDTH
    label_right = LABEL_RIGHT
    bar_left = BAR_LEFT
    bar_height = BAR_HEIGHT


def bar_chart(title: str, items: Sequence[tuple[str, int]]) -> BarChart:
    """A chart of (label, value) pairs in the given order; bars scale to the largest value."""
    largest = max((value for _label, value in items), default=0)
    bars = tuple(
        Bar(
            label=label,
            value=value,
            y=PADDING + index * ROW + (ROW - BAR_HEIGHT) // 2,
            width=round(BAR_MAX * value / largest) if largest else 0,
        )
        for index, (label, value) in enumerate(items)
    )
    return BarChart(title, bars)
