"""What every report figure shares: the canvas, margins, series styles and axis helpers.

Figures are drawn with Matplotlib's object API on the Agg canvas (no pyplot, no
global backend switch), at ``DPI`` = 100, the resolution a browser shows them at
(a 10-inch figure is 1000 px wide), once, and saved as deterministic PNGs (no
Software/date metadata). Titles sit at a fixed height (``TITLE_PAD``) instead of
Matplotlib's automatic placement, which measures every tick of every axes again
at each draw; the layout test (``tests/test_report_figures.py``) checks from the
drawn layout that nothing is clipped and no two texts overlap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
#: Points between an axes' top and its title.
TITLE_PAD = 6.0
EXP_STYLE: dict[str, Any] = {"marker": "o", "linestyle": "-", "linewidth": 1.5, "markersize": 5}
THEORY_STYLE: dict[str, Any] = {"linestyle": "--", "linewidth": 1.5, "color": "black"}
#: Markers and line styles that tell series apart where they overlap (cycled together
#: with the colours, so neighbouring series differ in all three).
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
LINESTYLES = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)))
#: Log scale when the positive values span more than this ratio.
LOG_SPAN = 100.0
#: Two series coincide (and the figure says so) when every point differs by < this (relative).
COINCIDE_RTOL = 0.02


def new_figure(
    width: float,
    height: float,
    *,
    left: float = 0.8,
    right: float = 0.2,
    bottom: float = 0.6,
    top: float = 0.7,
    wspace: float = 0.25,
    hspace: float = 0.35,
) -> Figure:
    """A white figure on an Agg canvas with fixed margins in inches (a fixed layout renders
    in half the time of Matplotlib's constrained layout)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
        hspace=hspace,
    )
    return fig


def title(ax: Axes, text: str, **kwargs: Any) -> None:
    """``ax``'s title at a fixed height above the axes (see the module docstring)."""
    ax.set_title(text, y=1.0, pad=TITLE_PAD, **kwargs)


def save(fig: Figure, path: Path) -> None:
    """Write ``fig`` as a PNG whose bytes depend only on its content."""
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def draw(build: Callable[..., Figure], *args: Any, path: Path) -> None:
    """Build a figure with ``build(*args)`` and save it to ``path`` (one pool task)."""
    save(build(*args), path)


def series_style(i: int) -> dict[str, Any]:
    """Colour, marker and line style of the ``i``-th series of a multi-series axes."""
    return {
        "color": f"C{i % 10}",
        "marker": MARKERS[i % len(MARKERS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "linewidth": 1.5,
        "markersize": 6 if i % 2 else 5,
        "markerfacecolor": "none" if i % 2 else f"C{i % 10}",
    }


def coincide(a: Sequence[float | None], b: Sequence[float | None]) -> bool:
    """Whether two series agree within :data:`COINCIDE_RTOL` at every point (so one would
    hide the other on a plot)."""
    if len(a) != len(b) or not a:
        return False
    for x, y in zip(a, b, strict=True):
        if x is None or y is None:
            return False
        if abs(x - y) > COINCIDE_RTOL * max(abs(x), abs(y), 1e-300):
            return False
    return True


def positive(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and v > 0 and math.isfinite(v)]


def autoscale(ax: Axes, *series: Sequence[float | None]) -> bool:
    """Log y when the positive values span > LOG_SPAN; returns whether it did."""
    pos = [v for s in series for v in positive(s)]
    if pos and max(pos) / min(pos) > LOG_SPAN:
        ax.set_yscale("log")
        return True
    return False


def masked(values: Sequence[float | None], log: bool, scale: float = 1.0) -> list[float]:
    """``values / scale``, NaN where a value cannot be drawn (None, non-finite, or <= 0 on a
    log axis)."""
    return [
        math.nan if v is None or (log and v <= 0) or not math.isfinite(v) else float(v) / scale
        for v in values
    ]


def power_of_ten(*series: Sequence[float | None]) -> int:
    """``k`` such that the largest finite ``|value|`` divided by ``10**k`` lies in [1, 1000);
    0 when it already lies in [0.01, 1000) or all are 0 (tick labels then stay short)."""
    finite = [abs(v) for s in series for v in s if v is not None and math.isfinite(v) and v]
    if not finite:
        return 0
    top = max(finite)
    if 0.01 <= top < 1000:
        return 0
    return 3 * math.floor(math.log10(top) / 3)


def layer_axis(ax: Axes, depth: int) -> None:
    ax.set_xlabel("layer")
    step = max(1, math.ceil(depth / 10))
    ax.set_xticks(range(1, depth + 1, step))
    ax.grid(True, alpha=0.3)
