"""Per-epoch curves as inline SVG, drawn on the server without a plotting library."""

from decimal import Decimal
from html import escape

from django.utils import formats
from django.utils.translation import gettext as _

WIDTH = 420
HEIGHT = 220
MARGIN = 36
COLORS = ("#1f5fa8", "#d9822b")


def _axis_label(value: float) -> str:
    """Return ``value`` to 3 significant digits, with the active locale's decimal separator."""
    return formats.number_format(Decimal(f"{value:.3g}"))


def curves_svg(title: str, epochs: list[int], series: dict[str, list[float]]) -> str:
    """Return an SVG line chart of ``series`` (name -> one value per epoch) against ``epochs``."""
    values = [value for points in series.values() for value in points if value is not None]
    if not epochs or not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        high = low + 1.0
    first, last = epochs[0], epochs[-1]
    span = max(last - first, 1)

    def x(epoch: int) -> float:
        return MARGIN + (epoch - first) / span * (WIDTH - 2 * MARGIN)

    def y(value: float) -> float:
        return HEIGHT - MARGIN - (value - low) / (high - low) * (HEIGHT - 2 * MARGIN)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{MARGIN}" y="16" font-size="13">{escape(title)}</text>',
             f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#888"/>',
             f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#888"/>',
             f'<text x="2" y="{MARGIN + 4}" font-size="10">{_axis_label(high)}</text>',
             f'<text x="2" y="{HEIGHT - MARGIN}" font-size="10">{_axis_label(low)}</text>',
             f'<text x="{MARGIN}" y="{HEIGHT - 20}" font-size="10">{first}</text>',
             f'<text x="{WIDTH - MARGIN - 10}" y="{HEIGHT - 20}" font-size="10">{last}</text>']
    for index, (name, points) in enumerate(series.items()):
        color = COLORS[index % len(COLORS)]
        coordinates = " ".join(f"{x(epoch):.1f},{y(value):.1f}" for epoch, value in zip(epochs, points) if value is not None)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coordinates}"/>')
        # A marker per epoch, so that a one-epoch run shows its point, with the value on hover.
        for epoch, value in zip(epochs, points):
            if value is None:
                continue
            label = _("%(series)s, epoch %(epoch)s: %(value)s") % {
                "series": name, "epoch": epoch, "value": _axis_label(value)}
            parts.append(f'<circle cx="{x(epoch):.1f}" cy="{y(value):.1f}" r="3" fill="{color}">'
                         f'<title>{escape(label)}</title></circle>')
        # Anchored at its end, so that a long series name stays inside the chart.
        parts.append(f'<text x="{WIDTH - 4}" y="{16 + 14 * index}" font-size="11" fill="{color}" '
                     f'text-anchor="end">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
