"""Signal propagation of a torch model at initialization, measured and predicted.

The notes' lesson -- small weights make the signal vanish, big ones saturate tanh, Xavier
keeps it alive -- asked of any network: :func:`propagate` builds the model several times,
records every operation's output statistics (mean, std, Brock et al.'s average channel
squared mean and channel variance, saturated or dead fraction, residual-branch variance) and
its gradient under a random linear read-out, predicts each by mean-field rules through the
model's ``torch.fx`` graph, and diagnoses disagreement, vanishing or exploding growth and the
residual stream's trend. Torch is imported only when a model is run.
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
    "Moments": "weight_init.properties.propagation._predict",
    "NodePrediction": "weight_init.properties.propagation._predict",
    "ModuleRecord": _RESULT,
    "ParamRecord": _RESULT,
    "PropagationResult": _RESULT,
    "Residual": _RESULT,
    "Spread": _RESULT,
    "DEFAULT_BUILDS": "weight_init.properties.propagation._run",
    "build_seeds": "weight_init.properties.propagation._run",
    "propagate": "weight_init.properties.propagation._run",
    "GradStats": _STATS,
    "TensorStats": _STATS,
    "tensor_stats": _STATS,
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
