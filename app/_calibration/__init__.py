"""``weight-init calibrate``: measured false-alarm rates, power curves and property calibration.

* :mod:`.implementations` -- the correct implementations the false-alarm checks cycle over;
* :mod:`.effects` -- the named defects of the power curves, each a typed effect of a size;
* :mod:`.tasks` -- one seeded unit of work and the function a worker runs on it;
* :mod:`.records` -- the JSON Lines store one record per finished task, and ``--resume``;
* :mod:`.engine` -- the ``concurrent.futures`` executor (local processes or Dask) and the loop;
* :mod:`.hypothesis_draws` -- ``--hypothesis N``: the properties over random Hypothesis cases.

The tables and figures are rendered by :mod:`weight_init.reports._calibration`.
"""
