"""Charts drawn on the server as inline SVG: no chart library, no script, no build step.

Each function returns geometry (numbers and labels); the template draws it,
autoescaping every label.
"""

from dataclasses import dataclass
from typing import Any

WIDTH = 360
HEIGHT = 200
PAD_LEFT = 36
PAD_BOTTOM = 22


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: Any


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    maximum: float
    line: str  # an SVG polyline's points ("" for none)
    width: int = WIDTH
    height: int = HEIGHT


def bar_chart(
    items: list[tuple[str, float | None]], *, line: list[float | None] | None = None
) -> Chart:
    """Bars of ``items`` (label, value); ``line``: a 0-100 series drawn over them (CSAT %)."""
    values = [value or 0 for _, value in items]
    maximum = max(values, default=0) or 1
    inner_width = WIDTH - PAD_LEFT
    inner_height = HEIGHT - PAD_BOTTOM
    step = inner_width / max(len(items), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        height = inner_height * (value or 0) / maximum
        bars.append(
            Bar(
                x=round(PAD_LEFT + index * step + step * 0.1, 1),
                y=round(inner_height - height, 1),
                width=round(step * 0.8, 1),
                height=round(height, 1),
                label=label,
                value=value,
            )
        )
    points = []
    for index, value in enumerate(line or []):
        if value is not None:
            x = PAD_LEFT + index * step + step / 2
            points.append(f"{x:.1f},{inner_height - inner_height * value / 100:.1f}")
    return Chart(bars=bars, maximum=maximum, line=" ".join(points))
