"""The audit of the zoo's models against their floor, in one process.

For each case of ``tests/audit_models_zoo.py`` (``ZOO``, or ``--only NAME ...``) at the
zoo table's build count, it times building the model that many times in a plain loop (the
floor: ``torch.manual_seed(s); factory()`` per build) and then the audit of the same builds
(``audit_spec(..., preset=PRESET)``, after a 4-build audit that pays the process's one-time
work: imports, caches), and prints audit / floor. One torch and one BLAS thread; needs torch,
torchvision, transformers and timm (``tox -e zoo``'s environment).

    OPENBLAS_NUM_THREADS=1 python benchmarks/audit_zoo_floor.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))


def measure(name: str, builds: int, preset: str) -> tuple[float, float, str]:
    """``(floor, audit, outcome)``: the seconds of ``builds`` plain builds and of the audit."""
    import numpy as np
    import torch

    import audit_models_zoo as zoo
    from weight_init.properties.audit._frameworks import audit_spec

    factory = getattr(zoo, name)
    factory()
    seeds = np.random.SeedSequence(0).generate_state(builds, np.uint32)
    start = time.perf_counter()
    for s in seeds:
        torch.manual_seed(int(s))
        factory()
    floor = time.perf_counter() - start
    spec = f"audit_models_zoo:{name}"
    options = {"seed": 0, "alpha": 1e-6, "preset": preset, "progress": False}
    audit_spec(spec, (), builds=4, **options)
    start = time.perf_counter()
    report = audit_spec(spec, (), builds=builds, **options)
    return floor, time.perf_counter() - start, report.outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="these zoo cases only")
    args = parser.parse_args(argv)
    import torch

    from audit_models_zoo import ZOO

    torch.set_num_threads(1)
    print("| model | builds | floor | audit | audit / floor | outcome |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case in ZOO:
        if args.only and case.name not in args.only:
            continue
        floor, audit, outcome = measure(case.name, case.builds, case.preset)
        print(
            f"| `{case.name}` | {case.builds} | {floor:.2f} s | {audit:.2f} s | "
            f"{audit / floor:.2f}x | {outcome} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
