"""A dict of parameter arrays that all live in one flat float64 vector.

`net.params` and the grads are plain `dict[str, ndarray]` to whoever reads them; underneath,
each array is a view into `.flat`, so an optimizer can update every parameter in a few vector
operations and a divergence check is one `isfinite` call. Assigning a key copies the values
into the existing view, so the network always sees the change.
"""

from __future__ import annotations

import numpy as np


class FlatDict(dict):
    """dict[str, ndarray] whose arrays are views into one contiguous vector `flat`.

    layout: tuple of (key, shape) pairs in storage order.
    """

    def __init__(self, layout, flat=None):
        self.layout = tuple((key, tuple(shape)) for key, shape in layout)
        total = sum(int(np.prod(shape)) for _, shape in self.layout)
        self.flat = np.zeros(total) if flat is None else flat
        offset = 0
        for key, shape in self.layout:
            size = int(np.prod(shape))
            super().__setitem__(key, self.flat[offset:offset + size].reshape(shape))
            offset += size

    def __setitem__(self, key, value):
        if key not in self:
            raise KeyError(f"{key!r} is not a parameter of this network")
        view = self[key]
        value = np.asarray(value, dtype=np.float64)
        if value.shape != view.shape:
            raise ValueError(f"{key} must have shape {view.shape}, got {value.shape}")
        view[...] = value

    def __delitem__(self, key):
        raise TypeError("parameters cannot be removed from a network")

    def zeros_like(self):
        """A FlatDict of the same layout, all zeros."""
        return FlatDict(self.layout)

    def copy_arrays(self):
        """A plain dict of independent copies (a snapshot)."""
        return {key: value.copy() for key, value in self.items()}
