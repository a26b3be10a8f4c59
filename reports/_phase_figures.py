"""The phase diagram's figures: heatmaps over sigma_w x depth, and std / saturation slices.

The marked lines keep one meaning and one style each, distinct from every data
series: Xavier (sigma_w = 1) solid white on the heatmaps, the order/chaos boundary
(chi_1 = 1) dashed; on the slices, whose series are coloured by depth, the boundary
is dotted black and the title says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from numpy.typing import NDArray

from weight_init.reports._figure_style import MARKERS, new_figure, save, title
from weight_init.reports._phase_diagram import PhaseDiagram

#: The order/chaos line on the slices (black dotted: no depth series is black).
BOUNDARY_STYLE = {"color": "black", "linestyle": ":", "linewidth": 1.6}


def _edges(values: Sequence[float], log: bool) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 1:
        return np.array([v[0] * 0.9, v[0] * 1.1]) if log else np.array([v[0] - 0.5, v[0] + 0.5])
    if log:
        lv = np.log(v)
        mids = (lv[1:] + lv[:-1]) / 2
        return np.exp(np.concatenate([[2 * lv[0] - mids[0]], mids, [2 * lv[-1] - mids[-1]]]))
    mids = (v[1:] + v[:-1]) / 2
    return np.concatenate([[2 * v[0] - mids[0]], mids, [2 * v[-1] - mids[-1]]])


def _sigma_axis(ax: Axes, sigmas: Sequence[float]) -> None:
    """Log x axis with plain ticks at the powers of 2 inside the grid."""
    ax.set_xscale("log")
    lo, hi = min(sigmas), max(sigmas)
    ticks = [2.0**k for k in range(-10, 11) if lo * 0.999 <= 2.0**k <= hi * 1.001]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())


def _mark_lines(ax: Axes, pd: PhaseDiagram, legend: bool) -> None:
    ax.axvline(
        pd.xavier_sigma, color="white", linestyle="-", linewidth=2.5, label="Xavier, sigma_w = 1"
    )
    ax.axvline(
        pd.boundary_sigma,
        color="red",
        linestyle="--",
        linewidth=1.8,
        label=f"order/chaos, chi_1 = 1 (sigma_w = {pd.boundary_sigma:.3f})",
    )
    if legend:
        ax.legend(loc="upper left", fontsize=8, framealpha=0.85)


def heatmaps_figure(pd: PhaseDiagram) -> Figure:
    """2 x 2: final-layer std and saturated fraction, experiment beside theory."""
    fig = new_figure(10, 7.4, right=0.85, hspace=0.18, wspace=0.08)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    xe = _edges(pd.sigmas, True)
    ye = _edges([float(d) for d in pd.depths], False)
    rows = (
        ("std of activations", pd.std, pd.theory_std, "viridis"),
        (f"fraction |h| > {pd.threshold:g}", pd.saturated, pd.theory_saturated, "magma"),
    )
    for r, (label, measured, theory, cmap) in enumerate(rows):
        vmax = max(max(map(max, measured)), max(map(max, theory)), 1e-12)
        norm = Normalize(vmin=0.0, vmax=vmax)
        mesh = None
        for c, (what, data) in enumerate((("experiment", measured), ("theory", theory))):
            ax = axes[r, c]
            mesh = ax.pcolormesh(xe, ye, np.asarray(data).T, cmap=cmap, norm=norm, shading="flat")
            _sigma_axis(ax, pd.sigmas)
            title(ax, f"{label}: {what}", fontsize=10)
            _mark_lines(ax, pd, legend=(r == 0 and c == 0))
            if r == 1:
                ax.set_xlabel("sigma_w  (Var[W] = sigma_w^2 / fan_in)")
            if c == 0:
                ax.set_ylabel("depth (layer)")
        assert mesh is not None
        fig.colorbar(mesh, ax=list(axes[r, :]), label=label, fraction=0.04, pad=0.02)
    cfg = pd.config
    fig.suptitle(
        f"tanh phase diagram: width {cfg.width}, {cfg.samples} samples, no bias, "
        f"{len(pd.sigmas)} x {cfg.depth} grid"
    )
    return fig


def slices_figure(pd: PhaseDiagram) -> Figure:
    """Layer std and saturated fraction against sigma_w at a few depths: markers measured,
    lines theory; each depth its own colour and marker (deep slices coincide at large
    sigma_w), one legend beside both panels."""
    fig = new_figure(10, 3.9, right=2.1, top=0.45, wspace=0.3)
    ax1, ax2 = fig.subplots(1, 2)
    depth = pd.config.depth
    picks = sorted({1, min(3, depth), min(10, depth), depth})
    for k, d in enumerate(picks):
        c, marker = f"C{k}", MARKERS[k % len(MARKERS)]
        hollow = "none" if k % 2 else c
        for ax, meas, theo in (
            (ax1, pd.std, pd.theory_std),
            (ax2, pd.saturated, pd.theory_saturated),
        ):
            ax.plot(
                pd.sigmas,
                [row[d - 1] for row in meas],
                marker,
                color=c,
                markerfacecolor=hollow,
                markersize=6 if k % 2 else 5,
                label=f"depth {d} measured",
            )
            ax.plot(
                pd.sigmas,
                [row[d - 1] for row in theo],
                "-",
                color=c,
                linewidth=1.3,
                label=f"depth {d} theory",
            )
    same = abs(pd.boundary_sigma - pd.xavier_sigma) < 1e-6
    line = (
        "Xavier = " if same else ""
    ) + f"order/chaos\n(chi_1 = 1, sigma_w = {pd.boundary_sigma:.3g})"
    for ax, ylabel in ((ax1, "std of activations"), (ax2, f"fraction |h| > {pd.threshold:g}")):
        _sigma_axis(ax, pd.sigmas)
        ax.axvline(pd.boundary_sigma, label=line, **BOUNDARY_STYLE)
        ax.set_xlabel("sigma_w")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    title(ax1, "std by sigma_w (dotted: " + ("Xavier = " if same else "") + "order/chaos)")
    title(ax2, "saturated fraction by sigma_w")
    top = max(max(map(max, pd.std)), max(map(max, pd.theory_std)))
    ax1.set_ylim(0.0, 1.08 * top + 1e-12)
    handles, labels = ax1.get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    return fig


def phase_heatmaps(pd: PhaseDiagram, path: Path) -> None:
    save(heatmaps_figure(pd), path)


def phase_slices(pd: PhaseDiagram, path: Path) -> None:
    save(slices_figure(pd), path)
