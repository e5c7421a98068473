"""Charts drawn on the server as inline SVG: no chart library, no CDN, no script needed to see them
(the dashboard works offline and without JavaScript). Each chart names itself with <title>/<desc> for
screen readers, and each bar carries its value in a <title>; the page puts a data table beside it."""
import math
from datetime import date
from itertools import count

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDE, NARROW = (960, 270), (360, 220)  # desktop, and phones (drawn for their width: text stays readable)
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 34, 30
SERIES_COLOURS = {"received": "#14539a", "closed": "#c2410c"}  # blue and orange: apart for colour-blind eyes too
_ids = count(1)


def nice_step(top: int, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` gridlines up to `top`."""
    raw = max(top, 1) / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return int(10 * power)


def period_label(period: date, unit: str) -> str:
    return period.strftime("%m-%d") if unit == "day" else period.strftime("%Y-%m")


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def trend_chart(unit: str, points: list[tuple[date, dict]], series: tuple[str, ...] = ("received", "closed"),
                names: dict[str, str] | None = None, size: tuple[int, int] = WIDE, css: str = "") -> Markup:
    """Grouped bars per day or month: received and closed. Labels on the x axis are thinned so that
    they never overlap; every period stays readable in the bar's tooltip and in the table."""
    names = names or {"received": _("Number received"), "closed": _("Closed")}
    chart_id = f"chart-{next(_ids)}"
    width, height = size
    top = max((values[s] for _p, values in points for s in series), default=0)
    step = nice_step(top)
    ceiling = max(step, math.ceil(top / step) * step)
    left = max(LEFT, 12 + 7 * len(str(ceiling)))  # room for the longest figure on the y axis
    plot_w, plot_h = width - left - RIGHT, height - TOP - BOTTOM
    n = max(len(points), 1)
    slot = plot_w / n
    bar = max(1.0, slot * 0.8 / len(series))
    title = _("Received and closed per day") if unit == "day" else _("Received and closed per month")
    first = period_label(points[0][0], unit) if points else ""
    last = period_label(points[-1][0], unit) if points else ""
    totals = {s: sum(values[s] for _p, values in points) for s in series}
    desc = _("%(first)s to %(last)s; in all: %(figures)s", first=first, last=last,
             figures=", ".join(f"{names[s]} {totals[s]}" for s in series))
    out = [f'<svg class="chart {css}" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" role="img" '
           f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>']
    # the legend, top left
    x = left
    for s in series:
        out.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{SERIES_COLOURS.get(s, "#667085")}"/>'
                   f'<text x="{x + 17}" y="18" class="legend">{escape(names[s])}</text>')
        x += 34 + 14 * len(names[s])
    # gridlines and the y axis's figures
    for value in range(0, ceiling + 1, step):
        y = TOP + plot_h - plot_h * value / ceiling
        out.append(f'<line x1="{left}" x2="{width - RIGHT}" y1="{_number(y)}" y2="{_number(y)}" class="grid"/>'
                   f'<text x="{left - 6}" y="{_number(y + 4)}" text-anchor="end" class="axis">{value}</text>')
    # the bars
    for i, (period, values) in enumerate(points):
        for j, s in enumerate(series):
            bar_h = plot_h * values[s] / ceiling
            bx = left + i * slot + slot * 0.1 + j * bar
            out.append(f'<rect x="{_number(bx)}" y="{_number(TOP + plot_h - bar_h)}" width="{_number(bar)}" '
                       f'height="{_number(bar_h)}" fill="{SERIES_COLOURS.get(s, "#667085")}">'
                       f'<title>{escape(period.isoformat() if unit == "day" else period_label(period, unit))} · '
                       f'{escape(names[s])} {values[s]}</title></rect>')
    # the x axis, labels thinned to one per `every` periods
    out.append(f'<line x1="{left}" x2="{width - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" class="axis-line"/>')
    label_width = 40 if unit == "day" else 54
    every = max(1, math.ceil(label_width / slot))
    for i in range(0, len(points), every):
        cx = left + i * slot + slot / 2
        out.append(f'<text x="{_number(cx)}" y="{height - 10}" text-anchor="middle" class="axis">'
                   f'{escape(period_label(points[i][0], unit))}</text>')
    if top == 0:
        out.append(f'<text x="{left + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" class="empty">'
                   f'{escape(_("No cases in this range"))}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every text above is escaped; numbers and colours are ours)
