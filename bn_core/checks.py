"""Input validation shared by the core: every bad input becomes a ValueError that says what is
wrong, never a silent wrong number."""

from __future__ import annotations

import numbers

import numpy as np


def check_matrix(A, name, rows=None):
    """A finite 2-D float64 array, optionally with a given number of rows; returns it as float64."""
    try:
        A = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array: {err}") from None
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D (units, examples), got shape {A.shape}")
    if rows is not None and A.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows, got shape {A.shape}")
    if A.shape[1] == 0:
        raise ValueError(f"{name} has no examples (shape {A.shape})")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} contains NaN or inf")
    return A


def check_column(v, name, n):
    """A finite (n, 1) float64 column vector."""
    v = check_matrix(v, name)
    if v.shape != (n, 1):
        raise ValueError(f"{name} must have shape ({n}, 1), got {v.shape}")
    return v


def check_labels(y, m, n_classes=None):
    """Class labels of shape (m,), returned as int64.

    The one rule for labels everywhere in the core: integers (any integer dtype), or floats
    that hold whole numbers (as a CSV read with NumPy gives them); never booleans, fractions,
    NaN or inf. Each label lies in 0..n_classes-1, or is >= 0 when n_classes is None (a data
    set whose classes are not fixed yet).
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(
            f"y must be a 1-D array of {m} labels (one per column of X), got shape {y.shape}"
        )
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not np.all(y == np.round(y)):
            raise ValueError("y must hold integer class labels, got non-integers, NaN or inf")
    elif y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if not y.size:
        return y
    if n_classes is None:
        if y.min() < 0:
            raise ValueError(f"labels must be >= 0, got {y.min()}")
    elif y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} (the output layer has "
            f"{n_classes} units), got {y.min()}..{y.max()}"
        )
    return y


def is_integer(value):
    """Whether value is an integer (Python's or NumPy's), a bool not counted as one."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def check_int(value, name, minimum=None):
    """An integer (Python's or NumPy's, not a bool), >= minimum when one is given; returned as
    int. The one rule for whole-number settings in the core (sizes, counts, seeds)."""
    if not is_integer(value):
        # the core reports every bad input as a ValueError (docs/DESIGN.md), a wrong type too
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(value, name, choices):
    """`value` must be one of `choices`."""
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return value


def is_number(value):
    """Whether value is a real number (Python's or NumPy's), a bool not counted as one, nor a
    text that spells one: the one rule for numbers in the core."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def check_positive(value, name, allow_zero=False):
    """A finite number > 0 (or >= 0), returned as float."""
    if not is_number(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value


def check_fraction(value, name):
    """A number in [0, 1): a decay rate such as beta."""
    value = check_positive(value, name, allow_zero=True)
    if value >= 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return value
