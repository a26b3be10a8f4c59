"""A layer parameter's documented default: its scheme, layout, fans and cited source.

Every framework's catalog states its defaults as these; :mod:`._expectations` reads the
catalogs. Kept apart from both so that the catalogs never import what reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from weight_init.schemes import Scheme


@dataclass(frozen=True)
class Default:
    """The documented default of one parameter of one layer type."""

    scheme: Scheme
    layout: str
    fans: str  # "weight": the layout's fans of the parameter; "owner": bias of the weight;
    # "rnn": torch's gate blocks (Equinox's cells: the hidden size); "embed": JAX's fans of
    # Flax's Embed table, (features, features)
    source: str
    #: the parameter stacks these along its last axis, each with its own scheme (Keras' LSTM
    #: bias: zeros, ones for the forget gate, zeros, zeros); empty: ``scheme`` for all
    blocks: tuple[Scheme, ...] = ()
