"""Pictures and typeset equations for "Under the hood": each backward stage's equation and code
line, arrays as LaTeX matrices, dZ split into its three paths, and gradient-check errors.

Notation in the equations: s = sqrt(sigma^2 + eps), z_centered = z - mu (the core's Z_centered),
sums run over the m examples.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from bn_viz.theme import (
    FAIL_COLOR,
    FAIL_PATTERN,
    INK,
    PASS_COLOR,
    PLAIN_COLOR,
    STAGE_COLORS,
    VERMILLION,
    empty_figure,
    f32,
    finish,
)

# name -> its equation(s), for each array of bn_core.batchnorm.backward_steps, in its order.
# The code beside them is that function's own source (bn_core.lessons.under_the_hood).
EQUATIONS = {
    "dbeta": [r"d\beta = \sum_i d\tilde z^{(i)}"],
    "dgamma": [r"d\gamma = \sum_i d\tilde z^{(i)}\, z_{\text{norm}}^{(i)}"],
    "dZ_norm": [r"dz_{\text{norm}}^{(i)} = \gamma\, d\tilde z^{(i)}"],
    "dvar": [
        (
            r"d\sigma^2 = \sum_i dz_{\text{norm}}^{(i)}\, z_{\text{centered}}^{(i)}"
            r" \cdot \left(-\tfrac{1}{2}\right)\left(\sigma^2 + \varepsilon\right)^{-3/2}"
        ),
        r"\phantom{d\sigma^2} = -\frac{\gamma\, d\gamma}{2 s^2}",
    ],
    "dmu": [
        (
            r"d\mu = \sum_i \frac{-dz_{\text{norm}}^{(i)}}{s}"
            r" + d\sigma^2\,"
            r" \underbrace{\tfrac{1}{m}\textstyle\sum_i -2 z_{\text{centered}}^{(i)}}_{0}"
        ),
        r"\phantom{d\mu} = -\frac{\gamma\, d\beta}{s}",
    ],
    "dZ": [
        (
            r"dz^{(i)} = \frac{dz_{\text{norm}}^{(i)}}{s}"
            r" + d\sigma^2\, \frac{2 z_{\text{centered}}^{(i)}}{m} + \frac{d\mu}{m}"
        )
    ],
}

# the forward step each piece of the code undoes, shown as a heading before it (keyed by the
# first array the piece computes)
UNDOES = {
    "dbeta": r"\tilde z = \gamma\, z_{\text{norm}} + \beta",
    "dvar": r"z_{\text{norm}} = \frac{z - \mu}{\sqrt{\sigma^2 + \varepsilon}}"
    r"\text{: } \sigma^2\text{'s share}",
    "dmu": r"z_{\text{centered}} = z - \mu\text{: } \mu\text{'s share (directly, and through }"
    r" \sigma^2\text{)}",
    "dZ": r"\mu = \tfrac{1}{m}\textstyle\sum_i z^{(i)},\ "
    r"\sigma^2 = \tfrac{1}{m}\textstyle\sum_i \big(z_{\text{centered}}^{(i)}\big)^2"
    r"\text{: three paths from } z",
}

COMPACT = (
    r"dz^{(i)} = \frac{\gamma}{m\, s}\Big(m\, d\tilde z^{(i)} - \sum_j d\tilde z^{(j)}"
    r" - z_{\text{norm}}^{(i)} \sum_j d\tilde z^{(j)} z_{\text{norm}}^{(j)}\Big)"
)

PATH_COLORS = {
    "direct": STAGE_COLORS["Z_norm"],
    "through σ²": PLAIN_COLOR,
    "through μ": STAGE_COLORS["Z"],
}


def number_latex(value, decimals=3):
    """One number as LaTeX: fixed decimals, or a power of ten when it is tiny but not zero."""
    if value != 0 and abs(value) < 0.5 * 10.0**-decimals:
        mantissa, exponent = f"{value:.1e}".split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def matrix_latex(A, decimals=3):
    """An (n, m) array as a LaTeX bmatrix (a (1, 1) array as a bare number)."""
    A = np.atleast_2d(A)
    if A.shape == (1, 1):
        return number_latex(A[0, 0], decimals)
    rows = [" & ".join(number_latex(v, decimals) for v in row) for row in A]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def stage_latex(name, value, decimals=None):
    """`name = [numbers]` for one stage, name typeset as in the code. Wide arrays (more than
    six columns) get two decimals and smaller type so they fit beside their equation."""
    columns = np.atleast_2d(value).shape[1]
    if decimals is None:
        decimals = 3 if columns <= 6 else 2
    size = r"\small " if columns > 5 else ""
    escaped = name.replace("_", r"\_")
    return rf"{size}\texttt{{{escaped}}} = {matrix_latex(value, decimals)}"


def paths_figure(paths, dZ, unit=0):
    """dZ of one unit split into its three paths (stacked bars) with the total dZ (diamonds).

    paths: {"direct", "through σ²", "through μ"} -> (n, m); dZ: (n, m); unit: the row shown.
    """
    m = dZ.shape[1]
    x = [f"example {i}" for i in range(1, m + 1)]
    fig = go.Figure()
    for name, values in paths.items():
        fig.add_trace(
            go.Bar(x=x, y=f32(values[unit]), name=name, marker={"color": PATH_COLORS[name]})
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=f32(dZ[unit]),
            mode="markers",
            name="dZ (their sum)",
            marker={"color": INK, "size": 12, "symbol": "diamond"},
        )
    )
    fig.update_yaxes(title_text="contribution to dZ", zeroline=True)
    return finish(
        fig,
        "Three paths from Z to the loss; the dZ diamonds sum to zero",
        height=360,
        barmode="relative",
    )


def relative_error_figure(report, pass_tol):
    """Relative error of each parameter on a log axis, with the pass line.

    report: a GradReport; parameters whose gradient is zero (status "zero") are left out."""
    rows = [r for r in report.rows if r.status != "zero"]
    if not rows:
        return empty_figure("Every gradient is zero: nothing to compare")
    errors = np.maximum([r.relative_error for r in rows], 1e-16)
    passed = [r.status == "pass" for r in rows]
    marker = {
        "color": [PASS_COLOR if p else FAIL_COLOR for p in passed],  # and a hatch: not
        "pattern": {"shape": ["" if p else FAIL_PATTERN for p in passed]},
    }  # colour alone
    fig = go.Figure(
        go.Bar(
            x=[r.name for r in rows],
            y=f32(errors),
            marker=marker,
            name="relative error",
            showlegend=False,
        )
    )
    fig.add_hline(
        y=pass_tol,
        line={"dash": "dash", "color": VERMILLION},
        annotation_text=f"pass below {pass_tol:g}",
        annotation_position="top left",
    )
    fig.update_yaxes(
        type="log", title_text="relative error", exponentformat="power", range=[-14, 0.5]
    )
    return finish(fig, "Analytic vs numeric gradient, per parameter", height=320)
