"""Normalizing inputs: why features on different scales make gradient descent zig-zag.

A two-weight linear regression without bias, y ~ w1 x1 + w2 x2, so the loss is a function of
exactly (w1, w2) and its contours are exact ellipses. Feature 2 is stretched by `ratio`; the
same data, normalized with the training mu and sigma^2, gives a round bowl. Examples are
columns: X is (2, m), y is (1, m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bn_core import data
from bn_core.checks import check_matrix, check_positive

BASE_MEAN = np.array([[1.0], [0.5]])  # (2, 1): feature means before feature 2 is stretched
TRUE_W = np.array([[1.5], [-1.0]])  # (2, 1): y = TRUE_W . x_base + noise
NOISE = 0.3
M_TRAIN = 200
M_TEST = 100
TOL = 1e-3  # converged once J - J* <= TOL * (J(w0) - J*)
MAX_STEPS = 10_000
BLOW_UP = 1e6  # diverged once J - J* > BLOW_UP * (J(w0) - J*)
W0 = np.zeros((2, 1))  # both descents start from w = (0, 0)
SEED = 3  # a draw whose test set is typical: close to, not exactly, mean 0 and variance 1


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class RegressionData:
    """A regression set in raw units and after normalization with the training statistics.

    X_train: (2, m), y_train: (1, m); X_test: (2, m_test), y_test: (1, m_test).
    Xn_train, Xn_test: the same inputs normalized with the TRAINING mu and var (2, 1).
    yc_train: (1, m), y_train minus its mean (what a bias would absorb).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    normalizer: data.Normalizer
    Xn_train: np.ndarray
    Xn_test: np.ndarray
    yc_train: np.ndarray


def make_regression(ratio, m=M_TRAIN, m_test=M_TEST, seed=SEED):
    """Two features, feature 2 stretched by `ratio`, and a target linear in them.

        x_base ~ N(BASE_MEAN, I)        x = (x1_base, ratio * x2_base)
        y = TRUE_W . x_base + noise     (so in raw units y = 1.5 x1 - (1/ratio) x2 + noise)

    ratio > 0; m, m_test >= 2. Returns a RegressionData.
    """
    ratio = check_positive(ratio, "ratio")
    rng = np.random.default_rng(seed)
    X_base = BASE_MEAN + rng.standard_normal((2, m + m_test))
    y = TRUE_W.T @ X_base + NOISE * rng.standard_normal((1, m + m_test))
    X = np.array([[1.0], [ratio]]) * X_base
    X_train, X_test = X[:, :m], X[:, m:]
    y_train, y_test = y[:, :m], y[:, m:]
    norm = data.fit_normalizer(X_train)
    return RegressionData(
        X_train,
        y_train,
        X_test,
        y_test,
        norm,
        norm.apply(X_train),
        norm.apply(X_test),
        y_train - y_train.mean(),
    )


def feature_stats(X):
    """Per-feature mean and (biased) variance of X: (n_x, m) -> two (n_x,) arrays.

    mu = 1/m sum_i x(i)        var = 1/m sum_i (x(i) - mu)^2
    """
    X = check_matrix(X, "X")
    mu = X.mean(axis=1)
    return mu, ((X - mu[:, None]) ** 2).mean(axis=1)


# ---------------------------------------------------------------- the loss bowl


@dataclass(frozen=True)
class Bowl:
    """The least-squares loss J(w) = 1/(2m) ||w^T X - y||^2 as an exact quadratic.

    H  = X X^T / m              (2, 2), the Hessian
    w* = H^{-1} X y^T / m       (2, 1), the minimum
    J(w) = J* + 1/2 (w - w*)^T H (w - w*)
    """

    H: np.ndarray
    w_star: np.ndarray
    J_star: float

    @property
    def eigenvalues(self):
        """(lambda_min, lambda_max) of H: the curvatures along the ellipse axes."""
        lo, hi = np.linalg.eigvalsh(self.H)
        return float(lo), float(hi)

    @property
    def elongation(self):
        """Long axis / short axis of every contour ellipse: sqrt(lambda_max / lambda_min)."""
        lo, hi = self.eigenvalues
        return float(np.sqrt(hi / lo))

    @property
    def best_lr(self):
        """The best constant step, 2 / (lambda_min + lambda_max): the error then shrinks by
        (kappa - 1) / (kappa + 1) per step in both axis directions,
        kappa = lambda_max / lambda_min."""
        return 2.0 / sum(self.eigenvalues)

    @property
    def stability_limit(self):
        """Gradient descent converges iff 0 < lr < 2 / lambda_max."""
        return 2.0 / self.eigenvalues[1]

    def excess(self, W):
        """J(w) - J* for each column of W: (2, k) -> (k,)."""
        D = W - self.w_star
        return 0.5 * np.einsum("ik,ij,jk->k", D, self.H, D)

    def loss(self, W):
        """J(w) for each column of W: (2, k) -> (k,)."""
        return self.J_star + self.excess(W)

    def grad(self, w):
        """dJ/dw = H (w - w*) = X (w^T X - y)^T / m, w: (2, 1) -> (2, 1)."""
        return self.H @ (w - self.w_star)


def fit_bowl(X, y):
    """The exact loss bowl of y ~ w^T X (no bias). X: (2, m), y: (1, m). Returns a Bowl."""
    X = check_matrix(X, "X", rows=2)
    y = check_matrix(y, "y", rows=1)
    m = X.shape[1]
    H = X @ X.T / m
    w_star = np.linalg.solve(H, X @ y.T / m)
    residual = w_star.T @ X - y
    return Bowl(H, w_star, float(np.sum(residual**2) / (2 * m)))


# ---------------------------------------------------------------- gradient descent


@dataclass(frozen=True)
class Descent:
    """One gradient-descent run. path: (2, k+1) iterates w0..wk; excess: (k+1,) J - J*.

    tol: the run converges once J - J* <= tol * (J(w0) - J*).
    steps: first t with J(w_t) - J* <= tol * (J(w0) - J*), or None if never reached.
    diverged: the loss blew up (lr above the stability limit).
    """

    lr: float
    tol: float
    path: np.ndarray
    excess: np.ndarray
    steps: int | None
    diverged: bool


def gradient_descent(bowl, lr, w0=W0, tol=TOL, max_steps=MAX_STEPS):
    """w := w - lr * dJ/dw from w0 (2, 1), until converged, diverged or max_steps.

    Converged: J - J* <= tol * (J(w0) - J*). Diverged: J - J* > BLOW_UP * (J(w0) - J*).
    """
    lr = check_positive(lr, "learning rate")
    w = np.array(w0, dtype=np.float64).reshape(2, 1)
    start = float(bowl.excess(w)[0])
    path, excess = [w], [start]
    steps, diverged = (0, False) if start == 0 else (None, False)
    while steps is None and not diverged and len(path) <= max_steps:
        w = w - lr * bowl.grad(w)
        e = float(bowl.excess(w)[0])
        path.append(w)
        excess.append(e)
        if e <= tol * start:
            steps = len(path) - 1
        diverged = not np.isfinite(e) or e > BLOW_UP * start
    return Descent(lr, tol, np.hstack(path), np.array(excess), steps, diverged)


def learning_rates(bowl_raw, bowl_norm, best=True, alpha=0.01):
    """The learning rate each problem gets: each its own best step 2 / (lambda_min +
    lambda_max) when `best`, else the same `alpha` for both. Returns (lr_raw, lr_norm)."""
    if best:
        return bowl_raw.best_lr, bowl_norm.best_lr
    alpha = check_positive(alpha, "alpha")
    return alpha, alpha


# ---------------------------------------------------------------- contours


def _reach(bowl, w0):
    """How far the contour through w0 reaches from w* along each axis: (2,).

    The ellipse (w - w*)^T H (w - w*) = 2 E reaches w*_i +- sqrt(2 E (H^{-1})_ii) on axis i.
    """
    E = max(float(bowl.excess(np.reshape(w0, (2, 1)))[0]), 1e-12)
    return np.sqrt(2 * E * np.diag(np.linalg.inv(bowl.H)))


def contour_window(bowl, w0=W0, pad=1.2):
    """A square window (equal scales on both axes) holding w*, w0 and the contour through w0.

    Returns ((w1_lo, w1_hi), (w2_lo, w2_hi)).
    """
    half = pad * float(_reach(bowl, w0).max())
    c = bowl.w_star.ravel()
    return (c[0] - half, c[0] + half), (c[1] - half, c[1] + half)


def _axis_points(lo, hi, centre, reach, n):
    """n even points over [lo, hi] plus n geometrically spaced ones either side of the centre,
    out to the reach of the outer contour: thin ellipses stay resolved whatever their shape."""
    near = reach * np.geomspace(10**-2.5, 1.05, n)
    points = np.concatenate([np.linspace(lo, hi, n), centre - near, [centre], centre + near])
    return np.unique(np.clip(points, lo, hi))


def contour_grid(bowl, window, w0=W0, n=61):
    """log10(J - J*) on a grid over `window`: returns w1 (k1,), w2 (k2,), Z (k2, k1).

    Z[j, i] belongs to (w1[i], w2[j]); evenly spaced log levels are geometric loss levels. The
    grid is dense near w* (see _axis_points), so even a needle-thin valley is drawn right.
    """
    reach, c = _reach(bowl, w0), bowl.w_star.ravel()
    w1 = _axis_points(*window[0], c[0], reach[0], n)
    w2 = _axis_points(*window[1], c[1], reach[1], n)
    G1, G2 = np.meshgrid(w1, w2)
    excess = bowl.excess(np.vstack([G1.ravel(), G2.ravel()])).reshape(G1.shape)
    return w1, w2, np.log10(np.maximum(excess, 1e-300))


# ---------------------------------------------------------------- the whole lesson


@dataclass(frozen=True)
class Comparison:
    """Everything the page shows: data, both bowls, both descents, their windows and grids.

    *_window: ((w1_lo, w1_hi), (w2_lo, w2_hi)); *_grid: (w1 (n,), w2 (n,), log10(J - J*) (n, n)).
    """

    data: RegressionData
    raw: Bowl
    norm: Bowl
    raw_run: Descent
    norm_run: Descent
    raw_window: tuple
    norm_window: tuple
    raw_grid: tuple
    norm_grid: tuple


def compare(ratio, best=True, alpha=0.01, seed=SEED):
    """Gradient descent on the raw and on the normalized problem, side by side.

    The raw problem fits y with the raw X; the normalized one fits the centred y with X
    normalized by the training mu and sigma^2. Both start from w = (0, 0).
    """
    d = make_regression(ratio, seed=seed)
    raw, norm = fit_bowl(d.X_train, d.y_train), fit_bowl(d.Xn_train, d.yc_train)
    lr_raw, lr_norm = learning_rates(raw, norm, best, alpha)
    raw_window, norm_window = contour_window(raw), contour_window(norm)
    return Comparison(
        d,
        raw,
        norm,
        gradient_descent(raw, lr_raw),
        gradient_descent(norm, lr_norm),
        raw_window,
        norm_window,
        contour_grid(raw, raw_window),
        contour_grid(norm, norm_window),
    )


def normalization_summary(d):
    """Per-feature numbers for the table: the training mu and sigma^2, and the mean and variance
    of the training and test inputs after normalization with them.

    d: a RegressionData. Returns a dict of column name -> (2,) array (one entry per feature).
    """
    mu, var = feature_stats(d.X_train)
    train_mu, train_var = feature_stats(d.Xn_train)
    test_mu, test_var = feature_stats(d.Xn_test)
    return {
        "training μ": mu,
        "training σ²": var,
        "after: training mean": train_mu,
        "after: training variance": train_var,
        "after: test mean": test_mu,
        "after: test variance": test_var,
    }


# ---------------------------------------------------------------- the lecture's two slips


@dataclass(frozen=True)
class SlipComparison:
    """The training inputs normalized the right way and with the chosen slips.

    right, slipped: (2, m) the normalized training inputs; var_used: (2,) the variance the
    slipped version computes (sigma^2, or mean(x^2) with the first slip); right_stats,
    slipped_stats: (mean (2,), variance (2,)) of each after normalizing.
    """

    uncentred_variance: bool
    divide_by_variance: bool
    right: np.ndarray
    slipped: np.ndarray
    var_used: np.ndarray
    right_stats: tuple
    slipped_stats: tuple

    @property
    def any_slip(self):
        return self.uncentred_variance or self.divide_by_variance


def normalize_with_slips(
    X_train, X, uncentred_variance=False, divide_by_variance=False, eps=data.NORMALIZER_EPS
):
    """Normalize X with X_train's statistics, the right way or with the lecture's slips.

        mu = 1/m sum_i x(i)
        var = 1/m sum_i (x(i) - mu)^2     right
            = 1/m sum_i x(i)^2            slip 1: mu not subtracted first (= sigma^2 + mu^2)
        x := (x - mu) / sqrt(var + eps)   right
           = (x - mu) / var               slip 2: divided by the variance

    X_train: (n_x, m); X: (n_x, k). Returns (X normalized (n_x, k), var used (n_x,)).
    """
    X_train, X = check_matrix(X_train, "X_train"), check_matrix(X, "X")
    mu = X_train.mean(axis=1, keepdims=True)
    centred = X_train if uncentred_variance else X_train - mu
    var = (centred**2).mean(axis=1, keepdims=True)
    scale = var if divide_by_variance else np.sqrt(var + eps)
    return (X - mu) / scale, var[:, 0]


def compare_slips(d, uncentred_variance=False, divide_by_variance=False):
    """The training inputs of d (a RegressionData) normalized right and with the chosen slips.
    Returns a SlipComparison."""
    slipped, var_used = normalize_with_slips(
        d.X_train, d.X_train, uncentred_variance, divide_by_variance
    )
    return SlipComparison(
        uncentred_variance,
        divide_by_variance,
        d.Xn_train,
        slipped,
        var_used,
        feature_stats(d.Xn_train),
        feature_stats(slipped),
    )
