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

    def __init__(self, layout):
        self.layout = tuple((key, tuple(shape)) for key, shape in layout)
        self._slots = _slots(self.layout)
        self._fill(np.zeros(self._slots[-1][3] if self._slots else 0))

    def _fill(self, flat):
        self.flat = flat
        dict.update(
            self,
            ((key, flat[start:stop].reshape(shape)) for key, shape, start, stop in self._slots),
        )

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

    def update(self, *args, **kwargs):
        """Copy values into the existing views, key by key (dict.update would swap the arrays
        out of `flat`, and the optimizer would silently stop updating them)."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def _refuse(self, *args, **kwargs):
        raise TypeError("parameters cannot be removed from a network")

    pop = popitem = clear = setdefault = _refuse

    def __reduce__(self):
        # copy.deepcopy and pickle (st.cache_data) rebuild a dict subclass key by key through
        # __setitem__, which refuses keys it does not hold yet: rebuild from the layout instead.
        return _rebuild, (self.layout, self.flat.copy())

    def zeros_like(self):
        """A FlatDict of the same layout, all zeros."""
        return self._like(np.zeros(self.flat.size))

    def empty_like(self):
        """A FlatDict of the same layout, uninitialized: for a caller that writes every entry."""
        return self._like(np.empty(self.flat.size))

    def _like(self, flat):
        twin = dict.__new__(FlatDict)
        twin.layout, twin._slots = self.layout, self._slots
        twin._fill(flat)
        return twin

    def copy_arrays(self):
        """A plain dict of independent copies (a snapshot)."""
        return {key: value.copy() for key, value in self.items()}


def _slots(layout):
    """(key, shape, start, stop) of each array inside the flat vector."""
    slots, start = [], 0
    for key, shape in layout:
        stop = start + int(np.prod(shape))
        slots.append((key, shape, start, stop))
        start = stop
    return tuple(slots)


def _rebuild(layout, flat):
    twin = FlatDict(layout)
    twin.flat[...] = flat
    return twin
