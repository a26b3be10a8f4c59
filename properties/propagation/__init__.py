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

from weight_init.properties.propagation._diagnose import (
    BlockGrowth,
    Diagnosis,
    Disagreement,
    Growth,
    ResidualTrend,
)
from weight_init.properties.propagation._predict import Moments, NodePrediction
from weight_init.properties.propagation._result import (
    ModuleRecord,
    ParamRecord,
    PropagationResult,
    Residual,
    Spread,
)
from weight_init.properties.propagation._run import DEFAULT_BUILDS, build_seeds, propagate
from weight_init.properties.propagation._stats import GradStats, TensorStats, tensor_stats

__all__ = [
    "DEFAULT_BUILDS",
    "BlockGrowth",
    "Diagnosis",
    "Disagreement",
    "GradStats",
    "Growth",
    "ModuleRecord",
    "Moments",
    "NodePrediction",
    "ParamRecord",
    "PropagationResult",
    "Residual",
    "ResidualTrend",
    "Spread",
    "TensorStats",
    "build_seeds",
    "propagate",
    "tensor_stats",
]
