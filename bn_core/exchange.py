"""Files in and out: a run's history as CSV, a page's settings as JSON, and the learner's own
2-D points as CSV.

Everything read is parsed as plain text (json, csv): nothing is executed or unpickled, and
every refusal is a ValueError that says what is wrong with the file.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from bn_core.recorder import PERCENTILES

APP_NAME = "batchnorm-lab"
SETTINGS_VERSION = 1
MAX_SETTINGS_BYTES = 20_000
MAX_SETTINGS_KEYS = 100
MAX_POINTS_BYTES = 500_000
MAX_POINTS = 5_000
MIN_POINTS = 10
MAX_CLASSES = 10
LABEL_COLUMNS = ("label", "class", "y", "target")


# --- history -----------------------------------------------------------------------------------


def history_rows(runs):
    """Yield (network, quantity, layer, unit, step, value) rows, a tidy table of everything
    the recorders kept. runs: [(network name, Recorder)]. layer/unit are "" where they do not
    apply; layers and units count from 1, as in the course."""
    for name, rec in runs:
        for k, quantity in enumerate(("loss", "accuracy")):
            yield from _scalar_rows(name, quantity, rec.train.steps, rec.train.values[:, k])
        for k, quantity in enumerate(("test_loss", "test_accuracy")):
            yield from _scalar_rows(name, quantity, rec.test.steps, rec.test.values[:, k])
        for quantity in ("grad_norm", "update_ratio"):
            steps, values = rec.layer_series(quantity)
            for l in range(values.shape[1]):
                yield from _scalar_rows(name, quantity, steps, values[:, l], layer=l + 1)
        for quantity in rec.unit_fields:
            for l in range(1, len(rec.layer_units.widths) + 1):
                steps, values = rec.unit_series(quantity, l)
                for j in range(values.shape[1]):
                    yield from _scalar_rows(name, quantity, steps, values[:, j], l, j + 1)
        for l in range(rec.percentiles.values.shape[1] if rec.percentiles.n else 0):
            for k, q in enumerate(PERCENTILES):
                yield from _scalar_rows(name, f"input_p{q}", rec.percentiles.steps,
                                        rec.percentiles.values[:, l, k], layer=l + 1,
                                        unit=rec.watch_unit + 1)


def _scalar_rows(name, quantity, steps, values, layer="", unit=""):
    for step, value in zip(steps.tolist(), values.tolist(), strict=True):
        yield name, quantity, layer, unit, step, value


def history_csv(runs):
    """The tidy history table as CSV text, with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("network", "quantity", "layer", "unit", "step", "value"))
    writer.writerows((n, q, l, u, s, f"{v:.7g}") for n, q, l, u, s, v in history_rows(runs))
    return out.getvalue()


# --- settings ----------------------------------------------------------------------------------


def settings_json(page, settings):
    """A page's settings (its URL parameters, name -> text) as a small JSON document."""
    return json.dumps({"app": APP_NAME, "version": SETTINGS_VERSION, "page": page,
                       "settings": {str(k): str(v) for k, v in settings.items()}}, indent=2)


def parse_settings_json(data, page):
    """Read a settings file made by `settings_json` for `page`.

    data: the file's bytes. Returns {name: text}; each value is checked again by the page's
    controls, which ignore (and name) the ones out of range.
    """
    doc = _load_json(data)
    if not isinstance(doc, dict) or doc.get("app") != APP_NAME:
        raise ValueError("this is not a BatchNorm Lab settings file (no \"app\": "
                         f"\"{APP_NAME}\" in it)")
    if doc.get("version") != SETTINGS_VERSION:
        raise ValueError(f"unsupported settings version {doc.get('version')!r} "
                         f"(this app reads version {SETTINGS_VERSION})")
    if doc.get("page") != page:
        raise ValueError(f"these settings are for the page {doc.get('page')!r}, not {page!r}")
    settings = doc.get("settings")
    if not isinstance(settings, dict):
        raise ValueError("\"settings\" must be an object of name: value pairs")
    if len(settings) > MAX_SETTINGS_KEYS:
        raise ValueError(f"too many settings ({len(settings)}; at most {MAX_SETTINGS_KEYS})")
    bad = [k for k, v in settings.items() if not isinstance(v, str | int | float | bool)]
    if bad:
        raise ValueError(f"settings must be plain text or numbers; not so for {', '.join(bad)}")
    return {str(k): _setting_text(v) for k, v in settings.items()}


def _setting_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if isinstance(value, str) else f"{value:g}"


def _load_json(data):
    if len(data) > MAX_SETTINGS_BYTES:
        raise ValueError(f"the file is too big for a settings file ({len(data):,} bytes; "
                         f"at most {MAX_SETTINGS_BYTES:,})")
    try:
        return json.loads(_text(data))
    except json.JSONDecodeError as err:
        raise ValueError(f"the file is not valid JSON ({err.msg}, line {err.lineno})") from None


def _text(data):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None


# --- the learner's own points -----------------------------------------------------------------


def points_csv(X, y):
    """2-D points as CSV text with a header row x1,x2,label. X: (2, m); y: (m,)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("x1", "x2", "label"))
    writer.writerows((f"{a:.6g}", f"{b:.6g}", int(c)) for a, b, c in zip(*X, y, strict=True))
    return out.getvalue()


def parse_points_csv(data):
    """Read 2-D labelled points from CSV text with a header row: two numeric feature columns
    and a label column (named label, class, y or target; else the last column).

    data: the file's bytes. Returns X (2, m) float64, y (m,) int64 in 0..K-1, and the K class
    names in label order.
    """
    if len(data) > MAX_POINTS_BYTES:
        raise ValueError(f"the file is too big ({len(data):,} bytes; at most "
                         f"{MAX_POINTS_BYTES:,})")
    rows = [row for row in csv.reader(io.StringIO(_text(data))) if any(c.strip() for c in row)]
    if len(rows) < 2:
        raise ValueError("the CSV needs a header row and at least one row of data")
    header = [c.strip().lower() for c in rows[0]]
    if len(header) != 3:
        raise ValueError(f"the CSV must have exactly 3 columns (two features and a label), "
                         f"found {len(header)}: {', '.join(header)}")
    label_col = next((header.index(n) for n in LABEL_COLUMNS if n in header), 2)
    feature_cols = [c for c in range(3) if c != label_col]
    body = rows[1:]
    if len(body) > MAX_POINTS:
        raise ValueError(f"too many points ({len(body):,}; at most {MAX_POINTS:,})")
    if len(body) < MIN_POINTS:
        raise ValueError(f"too few points ({len(body)}; at least {MIN_POINTS})")
    X = np.array([[_number(row, c, i) for c in feature_cols] for i, row in enumerate(body, 2)]).T
    names, y = np.unique([_cell(row, label_col, i).strip() for i, row in enumerate(body, 2)],
                         return_inverse=True)
    _check_classes(names, y)
    return X, y.astype(np.int64), [str(n) for n in names]


def _cell(row, col, line):
    if len(row) != 3:
        raise ValueError(f"line {line} has {len(row)} columns, not 3")
    return row[col]


def _number(row, col, line):
    text = _cell(row, col, line).strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"line {line}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"line {line}: {text!r} is NaN or infinite; every feature must be a "
                         "finite number")
    return value


def _check_classes(names, y):
    if len(names) < 2:
        raise ValueError(f"the labels must name at least two classes, found only {names[0]!r}")
    if len(names) > MAX_CLASSES:
        raise ValueError(f"too many classes ({len(names)}; at most {MAX_CLASSES})")
    counts = np.bincount(y, minlength=len(names))
    rare = [str(n) for n, c in zip(names, counts, strict=True) if c < 2]
    if rare:
        raise ValueError(f"class {', '.join(rare)} has fewer than 2 points; each class needs 2 "
                         "or more so it appears in training and in test")
