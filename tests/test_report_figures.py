"""Every figure of the default report, and of a report with custom flags, read back from
Matplotlib's own layout after ``fig.canvas.draw()``: no text is clipped by the figure's
edge, no two texts overlap, and no legend covers a data point.

Bounding boxes are the drawn extents (``Text.get_window_extent`` with the figure's
renderer, in pixels at the saved resolution); two boxes "overlap" when they share
more than ``TOL`` pixels in both directions, a box is "clipped" when it extends more
than ``TOL`` pixels past the figure, and a data point (a marker, or a point along a
drawn line) within ``LEGEND_MARGIN`` pixels of a legend's box is covered by it. The
checks can fail: the last tests draw
figures with a known defect and see them reported.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from weight_init.reports import _figures as figures
from weight_init.reports._build import Report, build_report
from weight_init.reports._config import ExperimentSpec, PhaseConfig, ReportConfig
from weight_init.reports._figure_style import new_figure
from weight_init.reports._gallery import PlannedFigure, figure_plan
from weight_init.reports._parallel import worker_pool

#: Pixels of slack in the text comparisons (anti-aliasing, rounding of extents).
TOL = 1.0
#: A data point closer than this many pixels to a legend's box counts as covered.
LEGEND_MARGIN = 3.0

#: The default report's figures at the default size (slow: about 10 s of CPU).
DEFAULT = ReportConfig(suite=False)
#: The default experiments at a smaller size, and custom flags: another activation, depth
#: 25 (two rows of histograms), ReLU of zeros, a smaller phase grid.
CUSTOM = ReportConfig(
    experiments=(
        *DEFAULT.experiments,
        ExperimentSpec("xavier", "selu"),
        ExperimentSpec("zeros", "relu"),
    ),
    depth=25,
    width=128,
    samples=256,
    input_dim=64,
    phase=PhaseConfig(n_sigma=7, depth=12, width=64, samples=128),
    suite=False,
)


def _report(config: ReportConfig) -> Report:
    with worker_pool() as pool:
        return build_report(config, pool=pool)


CONFIGS = {"default": DEFAULT, "custom": CUSTOM}


@pytest.fixture(scope="module")
def reports(request: pytest.FixtureRequest) -> dict[str, Report]:
    """The reports the selected tests need (the default one only when a slow test runs)."""
    wanted = {item.callspec.params.get("which", "custom") for item in request.session.items
              if hasattr(item, "callspec") and item.module is request.module}  # fmt: skip
    return {key: _report(CONFIGS[key]) for key in sorted(wanted | {"custom"})}


def _names(config: ReportConfig) -> list[str]:
    names = ["overview_std.png"]
    names += [f"{e.slug}_{kind}.png" for e in config.experiments for kind in ("layers", "hist")]
    return [*names, "phase_diagram.png", "phase_slices.png"]


def _plans() -> Iterator[Any]:
    """(report, figure file) pairs, known without computing the reports."""
    for name in _names(DEFAULT):
        yield pytest.param("default", name, marks=pytest.mark.slow)
    for name in _names(CUSTOM):
        yield pytest.param("custom", name)


# ----------------------------------------------------------------------------- layout reading


def _texts(fig: Figure) -> list[tuple[str, Text]]:
    """Every visible, non-empty text the figure draws, with a description of where it is."""
    out: list[tuple[str, Text]] = []
    seen: set[int] = set()

    def add(where: str, t: Text) -> None:
        if t.get_visible() and t.get_text().strip() and id(t) not in seen:
            seen.add(id(t))
            out.append((f"{where} {t.get_text()!r}", t))

    for attr in ("_suptitle", "_supxlabel", "_supylabel"):
        t = getattr(fig, attr, None)
        if t is not None:
            add("figure " + attr.strip("_"), t)
    for t in fig.texts:
        add("figure text", t)
    for leg in fig.legends:
        for t in leg.get_texts():
            add("figure legend", t)
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        name = f"axes {i} ({ax.get_title() or ax.get_ylabel()})"
        for t in (ax.title, ax._left_title, ax._right_title):
            add(f"{name} title", t)
        for axis, label in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            add(f"{name} {label}label", axis.label)
            add(f"{name} {label} offset", axis.get_offset_text())
            lo, hi = sorted(axis.get_view_interval())
            span = hi - lo
            for locs, labels in (
                (axis.get_majorticklocs(), axis.get_majorticklabels()),
                (axis.get_minorticklocs(), axis.get_minorticklabels()),
            ):
                for loc, t in zip(locs, labels, strict=False):
                    if lo - 1e-9 * span <= loc <= hi + 1e-9 * span:
                        add(f"{name} {label}tick", t)
        for t in ax.texts:
            add(f"{name} text", t)
        leg = ax.get_legend()
        if leg is not None:
            for t in leg.get_texts():
                add(f"{name} legend", t)
    return out


def _legends(fig: Figure) -> list[Legend]:
    legs = list(fig.legends)
    legs += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return legs


def _shrunk(b: Bbox) -> Bbox:
    return Bbox.from_extents(b.x0 + TOL, b.y0 + TOL, b.x1 - TOL, b.y1 - TOL)


def layout_problems(fig: Figure) -> list[str]:
    """What is wrong with ``fig``'s drawn layout (empty: nothing)."""
    fig.canvas.draw()
    renderer: RendererBase = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = fig.bbox
    problems: list[str] = []
    boxes = [(what, t.get_window_extent(renderer)) for what, t in _texts(fig)]
    for what, b in boxes:
        if (
            b.x0 < frame.x0 - TOL
            or b.y0 < frame.y0 - TOL
            or b.x1 > frame.x1 + TOL
            or b.y1 > frame.y1 + TOL
        ):
            problems.append(f"clipped by the figure edge: {what} at {b.extents.round(1)}")
    for i, (wa, a) in enumerate(boxes):
        for wb, b in boxes[i + 1 :]:
            if _shrunk(a).overlaps(_shrunk(b)):
                problems.append(f"texts overlap: {wa} and {wb}")
    for leg in _legends(fig):
        area = leg.get_window_extent(renderer).expanded(1.0, 1.0).padded(LEGEND_MARGIN)
        for ax in fig.axes:
            for line in ax.get_lines():
                if not _is_data_series(line):
                    continue
                pts = _drawn_points(line)
                inside = [p for p in pts if area.contains(p[0], p[1])]
                if inside:
                    problems.append(
                        f"legend covers {len(inside)} data point(s) of {line.get_label()!r} "
                        f"in axes {ax.get_title()!r}"
                    )
    return problems


def _drawn_points(line: Line2D, per_segment: int = 25) -> np.ndarray:
    """Display coordinates of a line's markers and, when it has a line style, of points
    along its segments (so a line passing under a legend counts, not only its vertices)."""
    xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    if line.get_linestyle() in ("None", "", " ") or len(xy) < 2:
        return xy[np.isfinite(xy).all(axis=1)]
    t = np.linspace(0.0, 1.0, per_segment)[:, None]
    parts = [a + t * (b - a) for a, b in itertools.pairwise(xy)]
    pts = np.concatenate([xy, *parts])
    return pts[np.isfinite(pts).all(axis=1)]


def _is_data_series(line: Line2D) -> bool:
    """A drawn data series: a visible Line2D in data coordinates (an axvline is not: it is
    drawn in blended axes coordinates)."""
    ax = line.axes
    return bool(line.get_visible()) and ax is not None and line.get_transform() == ax.transData


# ----------------------------------------------------------------------------- the figures


def _plan_entry(report: Report, name: str) -> PlannedFigure:
    found = [p for p in figure_plan(report) if p.name == name]
    assert len(found) == 1, f"{name} not in the plan: {[p.name for p in figure_plan(report)]}"
    return found[0]


@pytest.mark.parametrize(("which", "name"), list(_plans()))
def test_figure_layout_is_clean(reports: dict[str, Report], which: str, name: str) -> None:
    p = _plan_entry(reports[which], name)
    fig = p.build(*p.args)
    problems = layout_problems(fig)
    assert problems == [], f"{which} report, {name}:\n" + "\n".join(problems)


def test_plan_lists_every_figure_once(reports: dict[str, Report]) -> None:
    for key, report in reports.items():
        names = [p.name for p in figure_plan(report)]
        expected = _names(CONFIGS[key])
        assert sorted(names) == sorted(expected) and len(set(names)) == len(names), key


def test_overlapping_series_are_told_apart(reports: dict[str, Report]) -> None:
    """A series equal to an earlier one (xavier / tanh drawn again under another name, as
    orthogonal / tanh nearly is at the default size) is said to coincide in the overview's
    legend and drawn with another marker; the slices' title names no colour."""
    report = reports["custom"]
    xavier = next(r for r in report.experiments if r.spec == ExperimentSpec("xavier", "tanh"))
    twin = replace(xavier, spec=ExperimentSpec("lecun_normal", "tanh"))
    fig = figures.overview_figure([*report.experiments, twin])
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("lecun_normal / tanh" in t and "coincides with xavier / tanh" in t for t in labels)
    lines = {line.get_label(): line for line in ax.get_lines()}
    first = lines["xavier / tanh"]
    second = next(v for k, v in lines.items() if k.startswith("lecun_normal / tanh"))
    assert (first.get_marker(), first.get_markersize()) != (
        second.get_marker(),
        second.get_markersize(),
    )
    assert report.phase is not None
    slices = _plan_entry(report, "phase_slices.png").build(report.phase)
    assert "red" not in slices.axes[0].get_title()


def hidden_bins(fig: Figure) -> list[str]:
    """Occupied histogram bins drawn on or under an axis spine (less than a pixel inside the
    panel) or narrower than half a pixel: a layer whose mass is all in one end bin then
    looks empty."""
    from matplotlib.patches import StepPatch

    fig.canvas.draw()
    problems = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        x0, x1 = ax.bbox.x0, ax.bbox.x1
        for patch in (p for p in ax.patches if isinstance(p, StepPatch)):
            values, edges = np.asarray(patch.get_data().values), patch.get_data().edges
            for k in np.flatnonzero(values > 0):
                (left, _), (right, _) = ax.transData.transform([(edges[k], 0), (edges[k + 1], 0)])
                if left < x0 + 1.0 or right > x1 - 1.0 or right - left < 0.5:
                    problems.append(f"{ax.get_title()}: bin {k} at [{left:.1f}, {right:.1f}] px")
    return problems


def test_every_occupied_histogram_bin_is_visible(reports: dict[str, Report]) -> None:
    """glorot_normal / relu's last layers hold all their mass in the bin at 0, the range's
    first: it must stand clear of the axis."""
    report = reports["custom"]
    problems = []
    for r in report.experiments:
        fig = figures.histograms_figure(r)
        problems += [f"{r.spec.label}, {p}" for p in hidden_bins(fig)]
    assert problems == [], "\n".join(problems)


def test_qq_figure_layout_is_clean() -> None:
    rng = np.random.default_rng(0)
    p = (np.arange(200) + 0.5) / 200
    theory = [math.sqrt(2) * float(v) for v in _erfinv(2 * p - 1)]
    sample = sorted(float(v) for v in rng.standard_normal(200))
    fig = figures.qq_figure(theory, sample, "QQ: mod:fn as he_normal (in_out)", "quantile of N")
    assert layout_problems(fig) == []


def _erfinv(y: np.ndarray) -> np.ndarray:
    from scipy.special import erfinv

    return np.asarray(erfinv(y))


# ----------------------------------------------------------------------------- the checks fail


def test_layout_check_reports_overlap_clipping_and_covered_data() -> None:
    fig = new_figure(4, 3)
    ax: Axes = fig.subplots()
    ax.plot([0, 1, 2], [0, 1, 2], "o-", label="data")
    ax.set_ylabel("a label far too long to fit " * 3)  # clipped at the top and bottom
    ax.set_title("title")
    ax.text(0.5, 1.0, "on the title", transform=ax.transAxes, ha="center", va="bottom")
    ax.legend(loc="center", markerscale=10, fontsize=30)  # over the middle point
    problems = layout_problems(fig)
    assert any(p.startswith("clipped") and "ylabel" in p for p in problems), problems
    assert any(p.startswith("texts overlap") and "title" in p for p in problems), problems
    assert any(p.startswith("legend covers") for p in problems), problems


def test_layout_check_passes_a_clean_figure() -> None:
    fig = new_figure(5, 4)
    ax = fig.subplots()
    ax.plot([0, 1, 2], [0, 1, 4], "o-", label="data")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper left")
    assert layout_problems(fig) == []
