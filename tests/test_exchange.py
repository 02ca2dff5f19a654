"""Files in and out: history CSV, settings JSON, the learner's own points. Every refusal says
what is wrong."""

import csv
import io
import json

import numpy as np
import pytest

from bn_core import exchange, training


@pytest.fixture(scope="module")
def trainer():
    split = training.make_split("xor", n=120, seed=1)
    trainer = training.Trainer(
        training.default_config(split, hidden=(4, 3)), split, batch_size=20, eval_every=4
    )
    trainer.step(12)
    return trainer


def test_history_csv_holds_every_series_of_both_networks(trainer):
    runs = [("batch_norm", trainer.runs[0].recorder), ("plain", trainer.runs[1].recorder)]
    rows = list(csv.DictReader(io.StringIO(exchange.history_csv(runs))))
    by = {(r["network"], r["quantity"]) for r in rows}
    for quantity in ("loss", "accuracy", "test_loss", "grad_norm", "mu", "sigma", "input_p50"):
        assert ("batch_norm", quantity) in by and ("plain", quantity) in by
    assert ("batch_norm", "gamma") in by and ("plain", "gamma") not in by
    losses = [
        float(r["value"]) for r in rows if r["network"] == "batch_norm" and r["quantity"] == "loss"
    ]
    np.testing.assert_allclose(losses, trainer.runs[0].recorder.train.values[:, 0], rtol=1e-6)
    mu_l2 = [
        r
        for r in rows
        if r["quantity"] == "mu" and r["layer"] == "2" and r["network"] == "batch_norm"
    ]
    assert {r["unit"] for r in mu_l2} == {"1", "2", "3"} and len(mu_l2) == 3 * 12


def test_settings_round_trip():
    text = exchange.settings_json("training_lab", {"lr": 0.1, "bn": "0"})
    assert exchange.parse_settings_json(text.encode(), "training_lab") == {"lr": "0.1", "bn": "0"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\xff\xfe not text", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a BatchNorm Lab settings file"),
        (b'{"app": "other"}', "not a BatchNorm Lab settings file"),
        (b'{"app": "batchnorm-lab", "version": 9}', "unsupported settings version"),
        (
            b'{"app": "batchnorm-lab", "version": 1, "page": "home", "settings": {}}',
            "for the page 'home'",
        ),
        (
            b'{"app": "batchnorm-lab", "version": 1, "page": "lab", "settings": [1]}',
            "must be an object",
        ),
        (
            b'{"app": "batchnorm-lab", "version": 1, "page": "lab", "settings": {"lr": {"x": 1}}}',
            "plain text or numbers; not so for lr",
        ),
        (b" " * 30_000, "too big"),
    ],
)
def test_bad_settings_files_are_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match=message):
        exchange.parse_settings_json(data, "lab")


def test_a_pickle_is_refused_not_loaded():
    import pickle

    with pytest.raises(ValueError, match=r"not (UTF-8|valid JSON)"):
        exchange.parse_settings_json(pickle.dumps({"app": "batchnorm-lab"}), "lab")


def points_csv(n=12, header="x1,x2,label", label=lambda i: "ab"[i % 2]):
    lines = [header] + [f"{i * 0.1},{-i * 0.2},{label(i)}" for i in range(n)]
    return "\n".join(lines).encode()


def test_own_points_are_read_with_named_classes():
    X, y, names = exchange.parse_points_csv(points_csv())
    assert X.shape == (2, 12) and names == ["a", "b"]
    np.testing.assert_array_equal(y, [0, 1] * 6)
    np.testing.assert_allclose(X[1, :3], [0, -0.2, -0.4])


def test_label_column_is_found_by_name():
    data = b"class,u,v\n" + b"\n".join(f"{i % 3},{i},{2 * i}".encode() for i in range(12))
    X, _, names = exchange.parse_points_csv(data)
    assert names == ["0", "1", "2"]
    np.testing.assert_allclose(X[:, 4], [4, 8])


def test_own_points_train():
    X, y, _ = exchange.parse_points_csv(points_csv(40))
    split = training.split_and_normalize(X, y, 0.25, seed=0)
    assert set(split.y_train.tolist()) == {0, 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"x" * 600_000, "too big"),
        (b"x1,x2,label\n", "at least one row"),
        (b"x1,x2\n1,2\n", "exactly 3 columns"),
        (points_csv(5), "too few points"),
        (points_csv(12).replace(b"0.30000000000000004", b"abc"), "'abc' is not a number"),
        (points_csv(12).replace(b"0.1,", b"nan,"), "NaN or infinite"),
        (points_csv(12, label=lambda i: "a"), "at least two classes"),
        (points_csv(12, label=lambda i: "b" if i == 3 else "a"), "class b has fewer than 2"),
        (points_csv(12, label=lambda i: str(i)), "fewer than 2|too many classes"),
        (points_csv(12) + b"\n1,2", "has 2 columns, not 3"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_bad_point_files_are_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match=message):
        exchange.parse_points_csv(data)


def test_settings_json_is_plain_json():
    doc = json.loads(exchange.settings_json("x", {"seed": 3}))
    assert doc == {"app": "batchnorm-lab", "version": 1, "page": "x", "settings": {"seed": "3"}}


# --- hostile and odd files: each was once a traceback or a huge message -----------------------


def test_a_csv_with_cr_only_line_endings_loads_like_any_other():
    """Classic Mac Excel ends lines with CR alone; the csv module raised _csv.Error."""
    lf = points_csv(12)
    for variant in (lf.replace(b"\n", b"\r"), lf.replace(b"\n", b"\r\n"), lf + b"\r"):
        X, y, names = exchange.parse_points_csv(variant)
        expected = exchange.parse_points_csv(lf)
        np.testing.assert_array_equal(X, expected[0])
        np.testing.assert_array_equal(y, expected[1])
        assert names == expected[2]


def test_a_cell_beyond_the_csv_modules_field_limit_is_refused_plainly():
    data = b"x1,x2,label\n1,2," + b"a" * 140_000 + b"\n"
    with pytest.raises(ValueError, match="not readable as CSV"):
        exchange.parse_points_csv(data)


def test_a_long_label_is_refused_with_a_short_message():
    long_label = "q" * 131_000
    data = points_csv(12, label=lambda i: long_label if i == 3 else "ab"[i % 2])
    with pytest.raises(ValueError) as err:
        exchange.parse_points_csv(data)
    assert len(str(err.value)) < 200 and "q" * 60 + "…" in str(err.value)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        pytest.param("n" * (exchange.MAX_NAME_CHARS + 1), "label 'nnnn.*' is too long", id="long"),
        pytest.param("   ", "has no label", id="blank"),
    ],
)
def test_labels_are_bounded_and_not_empty(label, message):
    data = points_csv(12, label=lambda i: label if i == 5 else "ab"[i % 2])
    with pytest.raises(ValueError, match=message):
        exchange.parse_points_csv(data)


def test_a_long_column_name_is_refused_with_a_short_message():
    data = points_csv(12, header="x1,x2," + "c" * 90)
    with pytest.raises(ValueError, match=r"column name 'c{60}…' is too long") as err:
        exchange.parse_points_csv(data)
    assert len(str(err.value)) < 200


def test_a_wide_header_is_named_briefly():
    with pytest.raises(ValueError, match="exactly 3 columns") as err:
        exchange.parse_points_csv(b",".join([b"col"] * 50_000) + b"\n1,2,3\n")
    assert len(str(err.value)) < 200


def test_features_too_large_to_square_are_refused():
    data = points_csv(12).replace(b"0.1,", b"1e200,")
    with pytest.raises(ValueError, match="too large"):
        exchange.parse_points_csv(data)


def test_too_many_points_are_refused_as_soon_as_counted():
    data = points_csv(exchange.MAX_POINTS + 1)
    with pytest.raises(ValueError, match="too many points"):
        exchange.parse_points_csv(data)


SETTINGS_HEAD = '{"app": "batchnorm-lab", "version": 1, "page": "lab", "settings": '


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[" * 5_000 + "]" * 5_000, "nests too deeply", id="deep-array"),
        pytest.param(
            SETTINGS_HEAD + '{"a":' * 3_000 + "1" + "}" * 3_001,
            "nests too deeply",
            id="deep-object",
        ),
        pytest.param(
            SETTINGS_HEAD + '{"seed": ' + "9" * 5_000 + "}}",
            "too many digits",
            id="int-beyond-python-limit",
        ),
        pytest.param(
            SETTINGS_HEAD + '{"seed": ' + "9" * 4_000 + "}}",
            "too many digits",
            id="int-too-big-for-float",
        ),  # was an OverflowError when formatted
        pytest.param(
            '{"app": "batchnorm-lab", "version": ' + "7" * 4_000 + "}",
            "too many digits",
            id="huge-version",
        ),
        pytest.param(SETTINGS_HEAD + '{"lr": 1e400}}', "1e400 is too large", id="float-overflow"),
        pytest.param(SETTINGS_HEAD + '{"lr": NaN}}', "NaN is not a number", id="NaN"),
        pytest.param(
            SETTINGS_HEAD + '{"lr": -Infinity}}', "Infinity is not a number", id="Infinity"
        ),
        pytest.param(
            SETTINGS_HEAD + '{"lr": "0.1", "lr": "1"}}', "'lr' appears twice", id="duplicate-key"
        ),
        pytest.param(SETTINGS_HEAD + '{"lr": "\\ud800"}}', "invalid character", id="surrogate"),
        pytest.param(SETTINGS_HEAD + '{"\\udfff": "1"}}', "invalid character", id="surrogate-key"),
        pytest.param(SETTINGS_HEAD + '{"lr": "' + "x" * 1_000 + '"}}', "too long", id="long-value"),
        pytest.param('"just text"', "not a BatchNorm Lab settings file", id="top-level-string"),
        pytest.param(
            '{"app": "batchnorm-lab", "version": 1, "page": "' + "p" * 5_000 + '"}',
            "for the page",
            id="long-page-name",
        ),
    ],
)
def test_hostile_settings_files_are_refused_with_a_short_reason(text, message):
    with pytest.raises(ValueError, match=message) as err:
        exchange.parse_settings_json(text.encode(), "lab")
    assert len(str(err.value)) < 200


def test_settings_numbers_keep_their_digits():
    text = (
        SETTINGS_HEAD + '{"seed": 123456789, "lr": 0.5, "n": 1234567.0, "eps": 1e-10, "bn": true}}'
    )
    assert exchange.parse_settings_json(text.encode(), "lab") == {
        "seed": "123456789",
        "lr": "0.5",
        "n": "1234567",
        "eps": "1e-10",
        "bn": "1",
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", "'abc'"),
        pytest.param("a" * 100, "'" + "a" * 60 + "…'", id="long"),
        ("line\nbreak", "'line\\nbreak'"),
        (12, "12"),
        (None, "None"),
        ([[[]]], "a JSON array"),
        ({"a": 1}, "a JSON object"),
    ],
)
def test_quoted_input_is_short_and_on_one_line(value, shown):
    assert exchange.quoted(value) == shown


def test_history_csv_holds_layer_norms_per_example_statistics():
    split = training.make_split("xor", n=120, seed=1)
    config = training.default_config(split, hidden=(4, 3), batch_norm=False, layer_norm=True)
    trainer = training.Trainer(config, split, batch_size=20, eval_every=4, twin="batch")
    trainer.step(6)
    runs = [("layer_norm", trainer.runs[0].recorder), ("batch_norm", trainer.runs[1].recorder)]
    rows = list(csv.DictReader(io.StringIO(exchange.history_csv(runs))))
    example = [r for r in rows if r["quantity"].startswith("example_")]
    assert {r["network"] for r in example} == {"layer_norm"}  # batch norm's are per unit
    assert {r["quantity"] for r in example} == {
        f"example_{q}_{s}" for q in ("mu", "sigma") for s in ("mean", "min", "max")
    }
    assert {r["layer"] for r in example} == {"1", "2"} and {r["unit"] for r in example} == {""}
    _, values = trainer.runs[0].recorder.example_series("sigma", 2)
    maxima = [
        float(r["value"])
        for r in example
        if r["quantity"] == "example_sigma_max" and r["layer"] == "2"
    ]
    np.testing.assert_allclose(maxima, values[:, 2], rtol=1e-6)
