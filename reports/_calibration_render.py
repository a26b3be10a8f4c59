"""Markdown and figures of a calibration run (:mod:`weight_init.reports._calibration`).

``calibration.md`` beside the records, figures beside it: ``calibration-far-qq.png`` (each
conformance test's p-values against U(0, 1), with the 99% pointwise band of uniform order
statistics), ``calibration-power.png`` (detection probability against effect size, exact 95%
intervals, the planned size and the 0.99 line marked) and ``calibration-properties-qq.png``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes

from weight_init.reports._calibration import (
    ALPHAS,
    RUN_KIND,
    LevelRate,
    PowerPoint,
    Record,
    Uniformity,
    audit_points,
    audit_uniformity,
    false_alarm_rates,
    false_alarm_uniformity,
    load_records,
    nonuniform_by_scheme,
    of_kind,
    p_values_by_test,
    power_curves,
    property_rates,
    rejects,
    timings,
)

PLANNED_POWER = 0.99


def _g(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.3g}"


def far_table(rows: Sequence[LevelRate]) -> str:
    lines = [
        "| alpha | false alarms / checks | rate | upper 95% (one-sided) | 95% CI (two-sided) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        r = row.rate
        if not r.trials:
            continue
        lo, hi = r.two_sided()
        lines.append(
            f"| {row.level:g} | {r.events} / {r.trials} | {_g(r.rate)} | "
            f"{_g(r.upper_one_sided())} | [{_g(lo)}, {_g(hi)}] |"
        )
    return "\n".join(lines)


def uniformity_table(rows: Sequence[Uniformity]) -> str:
    lines = [
        "| test | p-values | KS D | KS p | fraction p <= 0.05 (95% CI) "
        "| fraction p <= 0.01 (95% CI) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for u in rows:
        cells = []
        for r in (u.at_05, u.at_01):
            lo, hi = r.two_sided()
            cells.append(f"{_g(r.rate)} [{_g(lo)}, {_g(hi)}]")
        lines.append(
            f"| {u.test} | {u.n} | {u.ks_statistic:.4f} | {_g(u.ks_p_value)} "
            f"| {cells[0]} | {cells[1]} |"
        )
    return "\n".join(lines)


def power_table(points: Sequence[PowerPoint]) -> str:
    lines = [
        "| effect | size | detected / checks | rate | 95% CI (two-sided) | planned |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in points:
        lo, hi = p.detected.two_sided()
        mark = "planned 0.99" if p.planned is not None and math.isclose(p.size, p.planned) else ""
        lines.append(
            f"| {p.effect} | {p.size:g} | {p.detected.events} / {p.detected.trials} | "
            f"{_g(p.detected.rate)} | [{_g(lo)}, {_g(hi)}] | {mark} |"
        )
    return "\n".join(lines)


def _qq(ax: Axes, groups: dict[str, list[float]], title: str) -> None:
    for name, ps in sorted(groups.items()):
        x = np.sort(np.asarray(ps))
        n = x.size
        if n < 2:
            continue
        expected = (np.arange(1, n + 1) - 0.5) / n
        ax.plot(expected, x, ".", ms=2, label=f"{name} (n={n})")
    if groups:
        n = max(len(v) for v in groups.values())
        k = np.arange(1, n + 1)
        expected = (k - 0.5) / n
        lo, hi = stats.beta.ppf(0.005, k, n - k + 1), stats.beta.ppf(0.995, k, n - k + 1)
        ax.fill_between(expected, lo, hi, color="0.85", label="99% band (largest n)")
    ax.plot([0, 1], [0, 1], "k-", lw=0.8)
    ax.set(xlabel="U(0,1) quantile", ylabel="p-value", title=title)
    ax.legend(fontsize=6)


def write_figures(records: Sequence[Record], directory: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fa = p_values_by_test(of_kind(records, "false_alarm"))
    if fa:
        fig, ax = plt.subplots(figsize=(6, 5))
        _qq(ax, fa, "conformance p-values on correct implementations")
        fig.savefig(directory / "calibration-far-qq.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append("calibration-far-qq.png")
    points = power_curves(records)
    effects = sorted({p.effect for p in points})
    if effects:
        cols = min(3, len(effects))
        rows = math.ceil(len(effects) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
        for ax, effect in zip(axes.ravel(), effects, strict=False):
            pts = [p for p in points if p.effect == effect]
            x = np.array([p.size for p in pts])
            y = np.array([p.detected.rate for p in pts])
            ci = np.array([p.detected.two_sided() for p in pts])
            ax.errorbar(x, y, yerr=[y - ci[:, 0], ci[:, 1] - y], fmt="o-", ms=3, capsize=2)
            ax.axhline(PLANNED_POWER, color="C3", ls=":", lw=1, label="0.99")
            planned = pts[0].planned
            if planned is not None:
                ax.axvline(planned, color="C2", ls="--", lw=1, label=f"planned {planned:g}")
            if len(x) > 2 and x.max() > 10 * np.sort(x)[-2]:
                ax.set_xscale("symlog", linthresh=max(np.sort(x)[1], 1e-6))
                ax.set_xlim(left=0)
            ax.set(
                title=effect,
                xlabel="effect size s",
                ylabel="detected at alpha 1e-4",
                ylim=(-0.03, 1.03),
            )
            ax.legend(fontsize=6)
        for ax in axes.ravel()[len(effects) :]:
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(directory / "calibration-power.png", dpi=110)
        plt.close(fig)
        written.append("calibration-power.png")
    props: dict[str, list[float]] = {}
    for r in of_kind(records, "property"):
        for v in r.get("verdicts", []):
            props.setdefault(v["property"], []).extend(
                p for p in v.get("p_values", {}).values() if p is not None
            )
    if props:
        fig, ax = plt.subplots(figsize=(6, 5))
        _qq(ax, props, "property p-values on the reference")
        fig.savefig(directory / "calibration-properties-qq.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append("calibration-properties-qq.png")
    return written


def render_markdown(records: Sequence[Record], figures: Sequence[str]) -> str:
    out = ["# Calibration of the checks", ""]
    run = {r["seed"] for r in records}
    out += [f"{len(records)} records (seed {', '.join(map(str, sorted(run))) or '-'}).", ""]
    rates = false_alarm_rates(records)
    if rates and rates[0].rate.trials:
        out += ["## False alarms of the conformance check", "", far_table(rates), ""]
        out += ["### p-values of each test on correct implementations", ""]
        out += [uniformity_table(false_alarm_uniformity(records)), ""]
        bad = nonuniform_by_scheme(records)
        out += [
            "Per declared scheme, the (test, scheme) groups whose p-values a KS test rejects as "
            "U(0, 1) at family-wise 0.01 (Bonferroni over the groups): "
            + ("none." if not bad else ""),
            "",
        ]
        if bad:
            out += [uniformity_table(bad), ""]
        out += [
            "| implementation | checks | median wall s | median CPU s |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| {t.implementation} | {t.checks} | {t.median_wall:.3f} | {t.median_cpu:.3f} |"
            for t in timings(records)
        ]
        out += [""]
        errors = [r for r in of_kind(records, "false_alarm") if rejects(r, ALPHAS[0])]
        for r in errors[:20]:
            out.append(
                f"- alarm at 1e-4: `{r['task_id']}` {r['implementation']} as {r['scheme']}: "
                f"exact {r.get('exact_failed')}, error {r.get('error')}"
            )
        out += [""]
    points = power_curves(records)
    if points:
        out += ["## Power curves (detection at alpha 1e-4)", "", power_table(points), ""]
    audits = audit_points(records)
    if audits:
        out += ["## Model audits at each stated resolution", ""]
        out += [
            "Each audit of the correctly initialized calibration model has two Holm families "
            "(its pooled weights, its pooled biases); a family that rejects is a false alarm, "
            "recomputed at each promised alpha from the family's recorded p-values (Holm at "
            "alpha / margin) and exact failures. Kept: the exact one-sided 95% "
            "Clopper-Pearson lower bound of the rate is at most alpha. Power: the model with "
            "every weight's std 1 - e times its rule, e the std error the weights' rows "
            "state, detected at alpha 1e-4 (planned 0.99).",
            "",
            "| target | builds | stated std error | alpha | false alarms / families | rate "
            "| lower 95% (one-sided) | upper 95% (one-sided) | kept | detected / audits "
            "(95% CI) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for a in audits:
            lo, hi = a.power.two_sided() if a.power.trials else (math.nan, math.nan)
            power = f"{a.power.events} / {a.power.trials} [{_g(lo)}, {_g(hi)}]"
            for k, lv in enumerate(a.false_alarms):
                fa = lv.rate
                if not fa.trials:
                    continue
                head = f"| {a.target:.0%} | {a.builds} | {a.stated:.3%} " if k == 0 else "| | | "
                lower = fa.lower_one_sided()
                out.append(
                    f"{head}| {lv.level:g} | {fa.events} / {fa.trials} | {_g(fa.rate)} "
                    f"| {_g(lower)} | {_g(fa.upper_one_sided())} "
                    f"| {'yes' if lower <= lv.level else 'NO'} | {power if k == 0 else ''} |"
                )
        out += ["", "### p-values of each test in the audits of the correct model", ""]
        out += [uniformity_table(audit_uniformity(records)), ""]
    props = property_rates(records)
    if props:
        out += ["## Property family on the reference", ""]
        out += [
            "| property | verdicts | rejected at 0.01 | rejected at 0.05 | p-values | KS p "
            "| p <= 0.05 |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for p in props:
            r01, r05 = (lv.rate for lv in p.rejections)
            u = p.uniformity
            out.append(
                f"| {p.property} | {r01.trials} | {r01.events} ({_g(r01.rate)}) "
                f"| {r05.events} ({_g(r05.rate)}) "
                f"| {u.n} | {_g(u.ks_p_value)} | {_g(u.at_05.rate)} |"
            )
        out += [""]
    out += [f"![{f}]({f})" for f in figures]
    return "\n".join(out) + "\n"


def write_markdown(records: Sequence[Record], directory: Path) -> None:
    figures = write_figures(records, directory)
    (directory / "calibration.md").write_text(render_markdown(records, figures))


def write_report(directory: str | Path) -> str:
    """Write ``directory/calibration.md`` and its figures; return the false-alarm table."""
    from weight_init.reports._output_dir import replace_files

    d = Path(directory)
    records = load_records(d)
    with replace_files(d, RUN_KIND) as staging:  # each file replaced whole, never followed
        write_markdown(records, staging)
    return far_table(false_alarm_rates(records))
