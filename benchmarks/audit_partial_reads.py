"""False alarms of audits whose parameters are read in fewer builds than the model is built.

``weight-init audit`` builds a model ``K`` times but reads each parameter in the builds its
own target resolution needs (at least 10), and the later builds for their range only
(docs/checking.md, "The builds a parameter is read in"). ``weight-init calibrate --audits``
audits its calibration model at a build count below 10, where every parameter is read in
every build; this script measures the other case. It audits a correct model (``Linear(64,
256)``, ``Tanh``, ``Linear(256, 4)``: torch's defaults; the two weights pool into one Holm
family, the two biases into another) ``--audits`` times, each with ``--builds`` builds (40:
every parameter is read in 10 and its range in the other 30) from its own seed, and counts
the families that reject at each promised alpha (Holm at ``alpha / margin`` over the
family's recorded p-values, and any exact failure), with the exact one-sided 95%
Clopper-Pearson bounds. The promise is kept when the lower bound is at most alpha.

    python benchmarks/audit_partial_reads.py --audits 4000 --workers 2
"""

from __future__ import annotations

import argparse
import sys
from multiprocessing import get_context
from typing import Any

LEVELS = (1e-4, 1e-3, 1e-2, 5e-2)


def model() -> Any:
    import torch

    return torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.Tanh(), torch.nn.Linear(256, 4))


def families(seed: int, builds: int) -> list[dict[str, Any]]:
    """One audit's Holm families: their p-values, exact failures, margin and reads."""
    import torch

    torch.set_num_threads(1)
    from weight_init.properties.audit._loop import audit_torch
    from weight_init.properties.conformance._power import DESIGN_MARGIN

    report = audit_torch(model, builds=builds, seed=seed, alpha=1e-4, progress=False)
    out: dict[str, dict[str, Any]] = {}
    for p in report.params:
        key = p.group or p.name
        fam = out.setdefault(
            key, {"p_values": {}, "exact_failed": [], "margin": DESIGN_MARGIN, "reads": set()}
        )
        fam["reads"].add(p.builds_read)
        if p.verdict is None:
            continue
        for t in p.verdict.tests:
            name = t.name if t.name.startswith("pooled ") else f"{p.name}: {t.name}"
            if t.p_value is not None:
                fam["p_values"][name] = t.p_value
            elif t.passed is False:
                fam["exact_failed"].append(name)
    return list(out.values())


def _task(args: tuple[int, int]) -> list[dict[str, Any]]:
    return families(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=400)
    parser.add_argument("--builds", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1000, help="the first audit's seed")
    args = parser.parse_args(argv)
    from weight_init.reports._calibration import clopper_pearson, rejects

    jobs = [(args.seed + i, args.builds) for i in range(args.audits)]
    with get_context("fork").Pool(args.workers) as pool:
        fams = [f for fs in pool.map(_task, jobs, chunksize=8) for f in fs]
    reads = sorted({r for f in fams for r in f["reads"]})
    print(
        f"{args.audits} audits, {args.builds} builds each, parameters read in {reads} builds; "
        f"{len(fams)} Holm families"
    )
    print("| alpha | false alarms / families | lower 95% | upper 95% | kept |")
    print("| --- | --- | --- | --- | --- |")
    for level in LEVELS:
        k = sum(rejects(f, level) for f in fams)
        low, _ = clopper_pearson(k, len(fams), alternative="greater")
        _, high = clopper_pearson(k, len(fams), alternative="less")
        kept = "yes" if low <= level else "no"
        print(f"| {level:g} | {k} / {len(fams)} | {low:.3g} | {high:.3g} | {kept} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
