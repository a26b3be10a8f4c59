"""Run the notes' notebook cells, unchanged, in one fresh interpreter.

Usage: python run_cells.py SEED CELL [CELL ...]

The cells share one namespace, as in the notebook they come from. IPython
magics (lines starting with ``%``, here only ``%matplotlib inline``) are the
notebook kernel's, not Python's; they are skipped, and matplotlib runs on the
Agg backend (MPLBACKEND=Agg) so ``plt.show()`` is a no-op. numpy's legacy
global state is seeded with SEED before the first cell, which makes the run
reproducible without touching the cells' code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main() -> None:
    seed = int(sys.argv[1])
    np.random.seed(seed)  # noqa: NPY002
    namespace: dict[str, object] = {"__name__": "__main__"}
    for cell in sys.argv[2:]:
        path = Path(cell)
        source = "\n".join(
            "" if line.lstrip().startswith("%") else line for line in path.read_text().splitlines()
        )
        print(f"### {path.stem}", flush=True)
        exec(compile(source, str(path), "exec"), namespace)


if __name__ == "__main__":
    main()
