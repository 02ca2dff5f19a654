"""Files in and out: a run's history as CSV, a page's settings as JSON, and the learner's own
2-D points as CSV.

Everything read is parsed as plain text (json, csv): nothing is executed or unpickled, and
every refusal is a ValueError that says, in one short line, what is wrong with the file; any
bytes at all give either a result or such a ValueError. Every size is bounded before any work
is done on it (the file, its rows, every cell, label and name, every number's digits), so the
worst legal file costs a few MB and a fraction of a second; docs/SECURITY.md has the reasons.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from bn_core.recorder import EXAMPLE_FIELDS, EXAMPLE_STATS, PERCENTILES

APP_NAME = "batchnorm-lab"
SETTINGS_VERSION = 1
MAX_SETTINGS_BYTES = 20_000
MAX_SETTINGS_KEYS = 100
MAX_SETTING_CHARS = 500  # a setting's name or value (a list of units shown fits)
MAX_NUMBER_CHARS = 40  # a number literal in a settings file
MAX_POINTS_BYTES = 500_000
MAX_POINTS = 5_000
MIN_POINTS = 10
MIN_CLASSES = 2
MAX_CLASSES = 10
MIN_CLASS_POINTS = 2  # so a class appears in training and in test
MAX_CELL_CHARS = 100  # any cell of a points file: a number written out in full fits
MAX_NAME_CHARS = 40  # a column name or a class label
MAX_ABS_FEATURE = 1e100  # larger features would overflow float64 when squared (variance)
LABEL_COLUMNS = ("label", "class", "y", "target")
MAX_QUOTED_CHARS = 60  # input quoted in a message is cut to this, with an ellipsis


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
        yield from _example_rows(name, rec)
        for l in range(rec.percentiles.values.shape[1] if rec.percentiles.n else 0):
            for k, q in enumerate(PERCENTILES):
                yield from _scalar_rows(
                    name,
                    f"input_p{q}",
                    rec.percentiles.steps,
                    rec.percentiles.values[:, l, k],
                    layer=l + 1,
                    unit=rec.watch_unit + 1,
                )


def _example_rows(name, rec):
    """Layer norm's per-example statistics: "example_mu_mean", "example_sigma_max", ... per
    hidden layer (no unit: each example's mu and sigma run over all the layer's units)."""
    if rec.examples is None:
        return
    for quantity in EXAMPLE_FIELDS:
        for l in range(1, len(rec.layer_units.widths) + 1):
            steps, values = rec.example_series(quantity, l)
            for k, stat in enumerate(EXAMPLE_STATS):
                yield from _scalar_rows(
                    name, f"example_{quantity}_{stat}", steps, values[:, k], layer=l
                )


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
    return json.dumps(
        {
            "app": APP_NAME,
            "version": SETTINGS_VERSION,
            "page": page,
            "settings": {str(k): str(v) for k, v in settings.items()},
        },
        indent=2,
    )


def parse_settings_json(data, page):
    """Read a settings file made by `settings_json` for `page`.

    data: the file's bytes. Returns {name: text}; each value is checked again by the page's
    controls, which ignore (and name) the ones out of range.
    """
    doc = _load_json(data)
    if not isinstance(doc, dict) or doc.get("app") != APP_NAME:
        raise ValueError(
            f'this is not a BatchNorm Lab settings file (no "app": "{APP_NAME}" in it)'
        )
    if doc.get("version") != SETTINGS_VERSION:
        raise ValueError(
            f"unsupported settings version {quoted(doc.get('version'))} "
            f"(this app reads version {SETTINGS_VERSION})"
        )
    if doc.get("page") != page:
        raise ValueError(
            f"these settings are for the page {quoted(doc.get('page'))}, not {quoted(page)}"
        )
    settings = doc.get("settings")
    if not isinstance(settings, dict):
        raise ValueError('"settings" must be an object of name: value pairs')
    if len(settings) > MAX_SETTINGS_KEYS:
        raise ValueError(f"too many settings ({len(settings)}; at most {MAX_SETTINGS_KEYS})")
    bad = [k for k, v in settings.items() if not isinstance(v, str | int | float | bool)]
    if bad:
        raise ValueError(
            "settings must be plain text or numbers; not so for "
            + quoted(", ".join(bad), quotes=False)
        )
    texts = {k: _setting_text(v) for k, v in settings.items()}
    for text in (*texts, *texts.values()):
        _check_setting_text(text)
    return texts


def _setting_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)  # its digits are bounded by _json_int
    return value if isinstance(value, str) else f"{value:.15g}"  # 0.1, not 0.10000000000000001


def _check_setting_text(text):
    if len(text) > MAX_SETTING_CHARS:
        raise ValueError(
            f"the setting {quoted(text)} is too long ({len(text):,} characters; "
            f"at most {MAX_SETTING_CHARS})"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON can write as an escape
        raise ValueError(f"the setting {quoted(text)} holds an invalid character") from None


def _load_json(data):
    if len(data) > MAX_SETTINGS_BYTES:
        raise ValueError(
            f"the file is too big for a settings file ({len(data):,} bytes; "
            f"at most {MAX_SETTINGS_BYTES:,})"
        )
    text = _text(data)
    try:
        return json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except json.JSONDecodeError as err:
        raise ValueError(f"the file is not valid JSON ({err.msg}, line {err.lineno})") from None
    except RecursionError:
        raise ValueError("the file nests too deeply for a settings file") from None


def _json_object(pairs):
    """A JSON object as a dict, refusing a name given twice (JSON would keep the last)."""
    doc = {}
    for name, value in pairs:
        if name in doc:
            raise ValueError(f"the name {quoted(name)} appears twice in one object")
        doc[name] = value
    return doc


def _json_int(text):
    return int(_short_number(text))


def _json_float(text):
    value = float(_short_number(text))
    if not math.isfinite(value):
        raise ValueError(f"the number {quoted(text, quotes=False)} is too large")
    return value


def _short_number(text):
    """A JSON number literal, refused before conversion when it is too long (Python refuses
    ints of over 4,300 digits with a long message, and can't format ints of over ~309 as
    floats)."""
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(
            f"a number in the file has too many digits ({len(text):,}; at most {MAX_NUMBER_CHARS})"
        )
    return text


def _json_constant(text):
    raise ValueError(f"{text} is not a number a settings file can hold")


def _text(data):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None


def quoted(value, quotes=True):
    """Input as a message shows it: text repr-style (control characters escaped; in quotes
    unless quotes=False) and cut to MAX_QUOTED_CHARS characters with an ellipsis; a number as
    written; a list or object by its kind only (its repr could be huge or nest deeply)."""
    if isinstance(value, str):
        cut = value[:MAX_QUOTED_CHARS] + ("…" if len(value) > MAX_QUOTED_CHARS else "")
        return repr(cut) if quotes else repr(cut)[1:-1]
    if value is None or isinstance(value, bool | int | float):
        return quoted(repr(value), quotes=False)
    return "a JSON " + ("object" if isinstance(value, dict) else "array")


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

    data: the file's bytes, with any line endings (LF, CRLF, or CR alone as old Mac exports).
    Returns X (2, m) float64, y (m,) int64 in 0..K-1, and the K class names in label order.
    Every cell, name and label is checked for length as it is read, before any NumPy call.
    """
    if len(data) > MAX_POINTS_BYTES:
        raise ValueError(f"the file is too big ({len(data):,} bytes; at most {MAX_POINTS_BYTES:,})")
    rows = _csv_rows(_text(data))
    if len(rows) < 2:
        raise ValueError("the CSV needs a header row and at least one row of data")
    (_, header_cells), body = rows[0], rows[1:]
    header = [_column_name(c) for c in header_cells]
    label_col = next((header.index(n) for n in LABEL_COLUMNS if n in header), 2)
    feature_cols = [c for c in range(3) if c != label_col]
    if len(body) < MIN_POINTS:
        raise ValueError(f"too few points ({len(body)}; at least {MIN_POINTS})")
    features = [[_number(row[c], line) for c in feature_cols] for line, row in body]
    labels = [_label(row[label_col], line) for line, row in body]
    names = sorted(set(labels))
    _check_class_count(names)
    index = {name: k for k, name in enumerate(names)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    _check_class_sizes(names, y)
    return np.array(features, dtype=np.float64).T, y, names


def _csv_rows(text):
    """[(line number, 3 cells)] of the CSV's non-blank rows, the header first. Refuses, as
    soon as it reads one, a row without 3 cells, a cell longer than MAX_CELL_CHARS, and more
    than MAX_POINTS rows of data."""
    reader = csv.reader(io.StringIO(text, newline=None))  # newline=None: CR alone ends a line
    rows = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            _check_row(row, reader.line_num, header=not rows)
            rows.append((reader.line_num, row))
            if len(rows) > MAX_POINTS + 1:
                raise ValueError(f"too many points (more than {MAX_POINTS:,})")
    except csv.Error as err:
        raise ValueError(f"line {reader.line_num} is not readable as CSV ({err})") from None
    return rows


def _check_row(row, line, header):
    if len(row) != 3:
        if header:
            raise ValueError(
                "the CSV must have exactly 3 columns (two features and a label), "
                f"found {len(row)}: {quoted(', '.join(row), quotes=False)}"
            )
        plural = "" if len(row) == 1 else "s"
        raise ValueError(f"line {line} has {len(row)} column{plural}, not 3")
    for cell in row:
        if len(cell) > MAX_CELL_CHARS:
            raise ValueError(
                f"line {line}: a cell of {len(cell):,} characters "
                f"({quoted(cell)}); at most {MAX_CELL_CHARS}"
            )


def _column_name(cell):
    name = cell.strip().lower()
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(
            f"the column name {quoted(name)} is too long ({len(name):,} "
            f"characters; at most {MAX_NAME_CHARS})"
        )
    return name


def _label(cell, line):
    label = cell.strip()
    if not label:
        raise ValueError(f"line {line} has no label")
    if len(label) > MAX_NAME_CHARS:
        raise ValueError(
            f"line {line}: the label {quoted(label)} is too long "
            f"({len(label):,} characters; at most {MAX_NAME_CHARS})"
        )
    return label


def _number(cell, line):
    text = cell.strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"line {line}: {quoted(text)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(
            f"line {line}: {quoted(text)} is NaN or infinite; every feature must be a finite number"
        )
    if abs(value) > MAX_ABS_FEATURE:
        raise ValueError(
            f"line {line}: {quoted(text)} is too large (at most {MAX_ABS_FEATURE:g} in size)"
        )
    return value


def _check_class_count(names):
    if len(names) < MIN_CLASSES:
        raise ValueError(
            f"the labels must name at least two classes, found only {quoted(names[0])}"
        )
    if len(names) > MAX_CLASSES:
        raise ValueError(f"too many classes ({len(names)}; at most {MAX_CLASSES})")


def _check_class_sizes(names, y):
    counts = np.bincount(y, minlength=len(names))
    rare = [n for n, c in zip(names, counts, strict=True) if c < MIN_CLASS_POINTS]
    if rare:
        raise ValueError(
            f"class {quoted(', '.join(rare), quotes=False)} has fewer than "
            f"{MIN_CLASS_POINTS} points; each class needs {MIN_CLASS_POINTS} or more "
            "so it appears in training and in test"
        )
