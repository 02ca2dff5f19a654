"""Fuzzing the URL binding: whatever a link holds, a control takes a valid value or ignores the
parameter with a short reason, and a page never shows an exception.

Two levels. Every control is bound through one of bn_app/ui.py's parse functions (int or float
in a range, one of some options, a subset, the nearest of some steps, on/off): those are fuzzed
directly, with Hypothesis drawing the range or options too, so every control's binding is
covered whatever its settings. Then the Training Lab, which has a control of every kind, is
opened with Hypothesis-drawn query strings: its control names and Streamlit's reserved ones
(embed, embed_options), repeated parameters, huge and odd numbers, odd Unicode. The examples
are the same on every run (the "suite" profile in conftest.py); each test says how many.
"""

import math

from bn_app import ui

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apptest import assert_clean, run_page

MAX_MESSAGE_CHARS = 100

ODD_VALUES = [
    "",
    " ",
    "-0",
    "-0.0",
    "+1",
    " 3 ",
    "1_0",
    "٣",
    "１",
    "0x10",
    "1e3",
    "1e999",
    "-1e999",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "5e-324",
    "1e-320",
    "9" * 30,
    "9" * 5_000,
    "true",
    "on",
    "ON",
    "yes",
    ",",
    ",,",
    "0,0,1",
    "a,b",
    "63,64",
    "\x00",
    "\u202e1",
    "é✓🧪",
    "[x](https://example.com)",
    "`",
    "%00",
    "x" * 2_000,
]
raw_values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(st.characters() | st.characters(categories=["Cs"]), max_size=20),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.lists(st.integers(-2, 70).map(str), max_size=6).map(",".join),
)


def parsed_or_refused(parse, raw):
    """The parsed value, or None when refused with a short, one-line ValueError."""
    try:
        return parse(raw)
    except ValueError as err:
        message = str(err)
        assert message and len(message) <= MAX_MESSAGE_CHARS and "\n" not in message, message
        return None


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=150)
@given(st.integers(-1000, 1000), st.integers(0, 10_000), raw_values)
def test_int_controls_take_a_whole_number_in_range_or_nothing(lo, span, raw):
    parse = ui._int_in(lo, lo + span)
    value = parsed_or_refused(parse, raw)
    if value is not None:
        assert type(value) is int and lo <= value <= lo + span
        assert parse(ui._show_number(value)) == value


@settings(max_examples=150)
@given(finite, st.floats(min_value=0, max_value=1e6), raw_values)
def test_float_controls_take_a_finite_number_in_range_or_nothing(lo, span, raw):
    hi = lo + span
    parse = ui._float_in(lo, hi)
    value = parsed_or_refused(parse, raw)
    if value is not None:
        assert isinstance(value, float) and math.isfinite(value) and lo <= value <= hi
        assert parse(ui._show_number(value)) == value


# Options are the app's own words (letters, digits, "_", "-"); what the link holds is anything.
options_text = st.lists(
    st.text(st.characters(categories=["L", "N"]) | st.sampled_from("_-"), min_size=1, max_size=10),
    min_size=1,
    max_size=8,
    unique=True,
)


@settings(max_examples=150)
@given(options_text, raw_values | options_text.map(lambda o: o[0]))
def test_choices_take_one_of_their_options_or_nothing(options, raw):
    value = parsed_or_refused(ui._one_of(options), raw)
    assert value is None or value in options


@settings(max_examples=150)
@given(st.integers(1, 64), raw_values)
def test_multichoices_take_a_subset_of_their_options_or_nothing(width, raw):
    options = range(width)  # the Lab's units shown
    parse = ui._subset_of(options)
    value = parsed_or_refused(parse, raw)
    if value is not None:
        assert set(value) <= set(options) and len(set(value)) == len(value)
        assert parse(",".join(map(str, value))) == value


steps_options = st.lists(
    st.floats(min_value=0, max_value=1e4) | st.integers(1, 10_000),
    min_size=1,
    max_size=12,
    unique=True,
).map(sorted)


@settings(max_examples=150)
@given(steps_options, raw_values)
def test_steps_snap_to_one_of_their_options_or_nothing(options, raw):
    parse = ui._nearest_of(options)
    value = parsed_or_refused(parse, raw)
    if value is not None:
        assert value in options
        assert parse(ui._show_number(value)) == value


def test_steps_with_a_zero_option_snap_to_the_nearest_by_distance():
    betas = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999]  # momentum's beta in the Lab
    assert ui._nearest_of(betas)("0.3") == 0.5
    assert ui._nearest_of(betas)("0.2") == 0.0
    assert ui._nearest_of([1e-4, 1e-3, 1e-2])("3e-4") == 1e-4  # log scale when all positive


@settings(max_examples=150)
@given(raw_values)
def test_toggles_take_on_or_off_or_nothing(raw):
    value = parsed_or_refused(ui._parse_bool, raw)
    assert value is None or value is True or value is False


def test_minus_zero_reads_as_zero():
    value = ui._float_in(-1, 1)("-0")
    assert value == 0 and math.copysign(1, value) == 1 and ui._show_number(value) == "0.0"
    assert ui._int_in(-1, 1)("-0") == 0


def test_an_unreadable_number_is_refused_without_repeating_it():
    for parse in (ui._float_in(0, 1), ui._nearest_of([0.1, 1.0])):
        for raw in ("x" * 2_000, "\x00", "1e3x"):
            try:
                parse(raw)
            except ValueError as err:
                assert str(err) == "not a number"
            else:
                raise AssertionError(f"{raw[:20]!r} was accepted")


# --- whole pages -------------------------------------------------------------------------------


LAB = "pages/training_lab.py"
LAB_NAMES = [
    "data",
    "n",
    "noise",
    "test",
    "seed",
    "layers",
    "units",
    "act",
    "bn",
    "nobias",
    "init",
    "scale",
    "twin",
    "batch",
    "opt",
    "lr",
    "spu",
    "beta",
    "beta1",
    "beta2",
    "eps",
    "units_shown",
    "view",
    "layer",
]
RESERVED = ["embed", "embed_options", "EMBED", "Embed_Options", "present", "page", ""]
param_names = st.sampled_from(LAB_NAMES) | st.sampled_from(RESERVED) | st.text(max_size=8)
param_values = raw_values | st.lists(raw_values, min_size=2, max_size=3)  # repeated parameters


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(param_names, param_values, min_size=1, max_size=8))
def test_the_lab_opens_from_any_query_string(query):
    at = run_page(LAB, query)
    assert_clean(at)
    assert at.title, f"no title for ?{query}"
