"""Signal propagation of a torch model at initialization, measured and predicted.

The notes' lesson -- small weights make the signal vanish, big ones saturate tanh, Xavier
keeps it alive -- asked of any network: :func:`propagate` builds the model several times,
records every operation's output statistics (mean, std, Brock et al.'s average channel
squared mean and channel variance, saturated or dead fraction, residual-branch variance) and
its gradient under a random linear read-out, predicts each by mean-field rules through the
model's ``torch.fx`` graph, and diagnoses disagreement, vanishing or exploding growth and the
residual stream's trend. Torch is imported only when a model is run.

Examples
--------
>>> import torch
>>> from weight_init.properties.propagation import propagate
>>> def model():
...     return torch.nn.Sequential(torch.nn.Linear(20, 20, bias=False), torch.nn.Tanh())
>>> result = propagate(model, input_shape=(64, 20), builds=3, seed=0)
>>> [(r.name, r.status) for r in result.records]
[('input', 'input'), ('0', 'predicted'), ('1', 'predicted')]
"""

from __future__ import annotations

from weight_init._lazy import attach

_DIAGNOSE = "weight_init.properties.propagation._diagnose"
_RESULT = "weight_init.properties.propagation._result"
_STATS = "weight_init.properties.propagation._stats"

#: Public name -> the private module that defines it.
_LAZY = {
    "BlockGrowth": _DIAGNOSE,
    "Diagnosis": _DIAGNOSE,
    "Disagreement": _DIAGNOSE,
    "Growth": _DIAGNOSE,
    "ResidualTrend": _DIAGNOSE,
    "ModuleRecord": _RESULT,
    "ParamRecord": _RESULT,
    "PropagationResult": _RESULT,
    "Residual": _RESULT,
    "Spread": _RESULT,
    "propagate": "weight_init.properties.propagation._run",
    "TensorStats": _STATS,
    "tensor_stats": _STATS,
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
