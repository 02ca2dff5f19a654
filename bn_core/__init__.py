"""BatchNorm Lab's NumPy core: batch norm, layer norm, layers, network, optimizers, data, training.

Examples are columns throughout (X is (n_x, m)), as in the course. Imports numpy only.
"""

from bn_core import batchnorm, layernorm, layers, optimizers
from bn_core.network import MLP, LayerTrace, NetConfig

__all__ = ["MLP", "LayerTrace", "NetConfig", "batchnorm", "layernorm", "layers", "optimizers"]
