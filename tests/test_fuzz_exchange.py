"""Fuzzing the file parsers: whatever bytes arrive, parse_points_csv and parse_settings_json
either return well-formed data or raise a ValueError with a short, one-line message. Nothing
else: no csv.Error, RecursionError, OverflowError, UnicodeError, no NumPy warning.

Hypothesis draws random bytes, CSV-shaped text with hostile cells and line endings, random JSON
documents (deep, with huge and odd numbers, NaN/Infinity, duplicate names, lone surrogates) and
invalid UTF-8. The examples are the same on every run (the "suite" profile in conftest.py);
each test says how many it runs.
"""

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bn_core import exchange, training

MAX_MESSAGE_CHARS = 250
PAGE = "training_lab"


def assert_plain_refusal(err):
    message = str(err)
    assert message and len(message) <= MAX_MESSAGE_CHARS and "\n" not in message, message


def parse_points_or_refuse(data):
    """(X, y, names) or None when refused; a refusal must be a plain ValueError."""
    try:
        X, y, names = exchange.parse_points_csv(data)
    except ValueError as err:
        assert_plain_refusal(err)
        return None
    m = y.shape[0]
    assert X.shape == (2, m) and X.dtype == np.float64 and np.isfinite(X).all()
    assert exchange.MIN_POINTS <= m <= exchange.MAX_POINTS and y.dtype == np.int64
    assert 2 <= len(names) <= exchange.MAX_CLASSES and set(y.tolist()) == set(range(len(names)))
    assert np.bincount(y).min() >= 2
    assert all(0 < len(n) <= exchange.MAX_NAME_CHARS for n in names)
    return X, y, names


def parse_settings_or_refuse(data, page=PAGE):
    try:
        loaded = exchange.parse_settings_json(data, page)
    except ValueError as err:
        assert_plain_refusal(err)
        return None
    assert isinstance(loaded, dict) and len(loaded) <= exchange.MAX_SETTINGS_KEYS
    for text in (*loaded, *loaded.values()):
        assert isinstance(text, str) and len(text) <= exchange.MAX_SETTING_CHARS
        text.encode("utf-8")  # fit for a URL: no lone surrogates
    return loaded


# Any character, lone UTF-16 surrogates too (JSON can write them as escapes; as UTF-8 bytes
# they are invalid).
any_char = st.characters() | st.characters(categories=["Cs"])


def any_text(max_size):
    return st.text(any_char, max_size=max_size)


def encoded(text):
    """UTF-8 bytes, lone surrogates included (as invalid UTF-8)."""
    return text.encode("utf-8", "surrogatepass")


# --- random bytes ------------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.binary(max_size=3_000))
def test_random_bytes_are_parsed_or_refused_plainly(data):
    parse_points_or_refuse(data)
    parse_settings_or_refuse(data)


# --- CSV-shaped text -------------------------------------------------------------------------


ODD_CELLS = [
    "",
    " ",
    "nan",
    "NaN",
    "-inf",
    "1e999",
    "-1e309",
    "1e100",
    "1e101",
    "-0",
    "0x10",
    "1_000",
    "٣",
    "１",
    "\x00",
    '"',
    '""',
    '"a,b"',
    "\ufeff1",
    "\u2028",
    "1e-400",
    "9" * 400,
    "q" * 41,
    "q" * 101,
    "z" * 131_100,
    "\ud800",
    "é✓🧪",
    "[](x)",
]

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**120), max_value=10**120).map(str),
    any_text(12),
    st.sampled_from(ODD_CELLS),
)
labels = st.one_of(st.sampled_from(["a", "b", "c"]), any_text(8), st.sampled_from(ODD_CELLS))
line_ends = st.sampled_from(["\n", "\r\n", "\r"])


numbers = st.floats(-1e3, 1e3).map(str) | st.floats(-1e120, 1e120).map(str) | cells
point_rows = st.one_of(
    st.tuples(numbers, numbers, st.sampled_from(["a", "b"])),  # most rows are fine
    st.tuples(numbers, numbers, st.sampled_from(["a", "b"])),
    st.tuples(numbers, numbers, labels),
    st.lists(cells, max_size=5),  # the wrong width
)


@st.composite
def points_files(draw):
    """Mostly well-formed points files (so the fuzzing reaches past the header), with hostile
    cells, labels, row widths and line endings mixed in."""
    header = draw(
        st.lists(
            st.sampled_from(["x1", "x2", "label", "class", "y", "u", ""]) | cells,
            min_size=2,
            max_size=4,
        )
    )
    rows = draw(st.lists(point_rows, max_size=30))
    end = draw(line_ends)
    text = end.join(",".join(row) for row in [header, *rows]) + draw(st.sampled_from(["", end]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return encoded(bom + text)


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(points_files(), st.sampled_from([0.25, 0.5]))
def test_points_files_are_parsed_or_refused_and_what_parses_trains(data, test_fraction):
    parsed = parse_points_or_refuse(data)
    if parsed is None:
        return
    X, y, _ = parsed
    try:
        split = training.split_and_normalize(X, y, test_fraction, seed=0)
    except ValueError as err:
        assert_plain_refusal(err)
        return
    assert np.isfinite(split.X_train).all() and np.isfinite(split.X_test).all()


# --- JSON-shaped settings --------------------------------------------------------------------


ODD_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e-400",
    "9" * 5_000,
    "9" * 4_000,
    "9" * 41,
    "-0",
    "1E+2",
    "0.1e1",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    any_text(20),
    st.sampled_from(["v" * 600, "1" * 300]),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text(8), inner, max_size=4),
    max_leaves=12,
)
setting_names = st.sampled_from(
    ["lr", "bn", "layers", "seed", "embed", "embed_options", "present", "units_shown"]
) | any_text(12)


@st.composite
def settings_documents(draw):
    """Settings files that are mostly right (so the checks past the header are reached), with
    anything JSON can hold in the values, odd number literals and names given twice."""
    pairs = draw(st.lists(st.tuples(setting_names, json_values | json_scalars), max_size=8))
    body = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs)
    if draw(st.booleans()):
        body = ", ".join(filter(None, [body, f'"lr": {draw(st.sampled_from(ODD_NUMBERS))}']))
    head = {
        "app": draw(st.sampled_from(["batchnorm-lab", "other"]) | json_scalars),
        "version": draw(st.sampled_from([1, 1.0, 2, "1", True]) | json_scalars),
        "page": draw(st.sampled_from([PAGE, "home"]) | json_values),
    }
    head = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
    return encoded(f'{{{head}, "settings": {{{body}}}}}')


@settings(max_examples=150)
@given(settings_documents())
def test_settings_files_are_parsed_or_refused_plainly(data):
    parse_settings_or_refuse(data)


@settings(max_examples=100)
@given(json_values)
def test_any_json_document_is_parsed_or_refused_plainly(doc):
    parse_settings_or_refuse(encoded(json.dumps(doc, ensure_ascii=False)))


@settings(max_examples=30)
@given(st.integers(min_value=1, max_value=9_000), st.sampled_from(["[", '{"a":', '{"settings":']))
def test_deep_nesting_is_refused_plainly(depth, opener):
    closer = {"[": "]"}.get(opener, "}")
    data = (opener * depth + "1" + closer * depth).encode()
    if len(data) <= exchange.MAX_SETTINGS_BYTES:
        parse_settings_or_refuse(data)


@pytest.mark.parametrize(
    "number", ODD_NUMBERS, ids=lambda n: n if len(n) < 12 else f"{len(n)}-digits"
)
def test_odd_numbers_never_reach_formatting(number):
    data = (
        f'{{"app": "batchnorm-lab", "version": 1, "page": "{PAGE}", "settings": '
        f'{{"seed": {number}}}}}'.encode()
    )
    loaded = parse_settings_or_refuse(data)
    if loaded is not None:
        assert math.isfinite(float(loaded["seed"]))
