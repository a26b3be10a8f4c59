"""False alarms of audits whose parameters are read in fewer builds than the model is built.

``weight-init audit`` builds a model ``K`` times but reads each parameter whole in the
builds its own target resolution needs (at least 2 for a zero-mean i.i.d. rule), compares it
with the other builds in the first 10 (its total, digest, norms and leading entries), and
reads the later builds for their range only (docs/checking.md, "The builds a parameter is
read in"). ``weight-init calibrate --audits`` audits its calibration model at the build
count its weights need, where every parameter is read whole in every build; this script
measures the other case. It audits a correct model (``Linear(64, 256)``, ``Tanh``,
``Linear(256, 4)``: torch's defaults; the two weights pool into one Holm family, the two
biases into another) ``--audits`` times, each with ``--builds`` builds (40: each parameter
read whole in the builds its group needs, compared in 10 and its range read in the rest)
from its own seed, and counts the families that reject at each promised alpha (Holm at
``alpha / margin`` over the family's recorded p-values, and any exact failure), with the
exact one-sided 95% Clopper-Pearson bounds. The promise is kept when the lower bound is at
most alpha. ``--power N`` then audits ``N`` times the model with every weight's std ``1 - e``
times its rule, ``e`` the std error the weights' rows state when read in those builds (the
shared error they claim to detect with power 0.99), and counts the audits that fail a
weight.

    python benchmarks/audit_partial_reads.py --audits 4000 --power 400 --workers 2
"""

from __future__ import annotations

import argparse
import sys
from multiprocessing import get_context
from typing import Any

LEVELS = (1e-4, 1e-3, 1e-2, 5e-2)


def model(scale: float = 1.0) -> Any:
    """The audited model; ``scale != 1`` multiplies every weight (a std ``scale`` times the
    rule's)."""
    import torch

    from weight_init.app._calibration.audits import narrow_weights

    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.Tanh(), torch.nn.Linear(256, 4))
    return narrow_weights(net, scale)


def _audit(seed: int, builds: int, scale: float = 1.0) -> Any:
    import functools

    import torch

    torch.set_num_threads(1)
    from weight_init.properties.audit._loop import audit_torch

    factory = functools.partial(model, scale)
    return audit_torch(factory, builds=builds, seed=seed, alpha=1e-4, progress=False)


def families(seed: int, builds: int) -> list[dict[str, Any]]:
    """One audit's Holm families (as a calibration record keeps them) and the builds its
    parameters were read in."""
    from weight_init.app._calibration.audits import holm_families

    report = _audit(seed, builds)
    reads = sorted({(p.builds_read, p.builds_compared) for p in report.params})
    return [{**fam, "reads": reads} for fam in holm_families(report)]


def _task(args: tuple[int, int]) -> list[dict[str, Any]]:
    return families(*args)


def stated_std_error(seed: int, builds: int) -> float:
    """The std error the weights' rows state in a correct audit (the larger of the two): the
    same at every seed (it depends on the counts only)."""
    rows = [p for p in _audit(seed, builds).params if p.name.endswith("weight")]
    return max(p.stated.std_error for p in rows if p.stated is not None)


def _detects(args: tuple[int, int, float]) -> bool:
    seed, builds, scale = args
    rows = _audit(seed, builds, scale).params
    return any(p.outcome == "fail" for p in rows if p.name.endswith("weight"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=400)
    parser.add_argument("--builds", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--power", type=int, default=0, help="audits of the narrowed model")
    parser.add_argument("--seed", type=int, default=1000, help="the first audit's seed")
    args = parser.parse_args(argv)
    from weight_init.reports._calibration import clopper_pearson, rejects

    jobs = [(args.seed + i, args.builds) for i in range(args.audits)]
    hits, e = 0, 0.0
    with get_context("fork").Pool(args.workers) as pool:
        fams = [f for fs in pool.map(_task, jobs, chunksize=8) for f in fs]
        if args.power:
            e = stated_std_error(args.seed, args.builds)
            first = args.seed + args.audits
            narrowed = [(first + i, args.builds, 1.0 - e) for i in range(args.power)]
            hits = sum(pool.map(_detects, narrowed, chunksize=8))
    reads = sorted({tuple(r) for f in fams for r in f["reads"]})
    counts = ", ".join(f"{whole} whole and {compared} compared" for whole, compared in reads)
    print(
        f"{args.audits} audits, {args.builds} builds each, parameters read in {counts}; "
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
    if args.power:
        low, high = clopper_pearson(hits, args.power)
        print(
            f"power: every weight's std {e:.3%} narrow (the stated std error): {hits} / "
            f"{args.power} audits fail a weight (95% CI [{low:.3f}, {high:.3f}]; planned 0.99)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
