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
    trainer = training.Trainer(training.default_config(split, hidden=(4, 3)), split,
                               batch_size=20, eval_every=4)
    trainer.step(12)
    return trainer


def test_history_csv_holds_every_series_of_both_networks(trainer):
    runs = [("batch_norm", trainer.runs[0].recorder), ("plain", trainer.runs[1].recorder)]
    rows = list(csv.DictReader(io.StringIO(exchange.history_csv(runs))))
    by = {(r["network"], r["quantity"]) for r in rows}
    for quantity in ("loss", "accuracy", "test_loss", "grad_norm", "mu", "sigma", "input_p50"):
        assert ("batch_norm", quantity) in by and ("plain", quantity) in by
    assert ("batch_norm", "gamma") in by and ("plain", "gamma") not in by
    losses = [float(r["value"]) for r in rows
              if r["network"] == "batch_norm" and r["quantity"] == "loss"]
    np.testing.assert_allclose(losses, trainer.runs[0].recorder.train.values[:, 0], rtol=1e-6)
    mu_l2 = [r for r in rows if r["quantity"] == "mu" and r["layer"] == "2"
             and r["network"] == "batch_norm"]
    assert {r["unit"] for r in mu_l2} == {"1", "2", "3"} and len(mu_l2) == 3 * 12


def test_settings_round_trip():
    text = exchange.settings_json("training_lab", {"lr": 0.1, "bn": "0"})
    assert exchange.parse_settings_json(text.encode(), "training_lab") == {"lr": "0.1",
                                                                          "bn": "0"}


@pytest.mark.parametrize(("data", "message"), [
    (b"\x00\xff\xfe not text", "not UTF-8"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "not a BatchNorm Lab settings file"),
    (b'{"app": "other"}', "not a BatchNorm Lab settings file"),
    (b'{"app": "batchnorm-lab", "version": 9}', "unsupported settings version"),
    (b'{"app": "batchnorm-lab", "version": 1, "page": "home", "settings": {}}',
     "for the page 'home'"),
    (b'{"app": "batchnorm-lab", "version": 1, "page": "lab", "settings": [1]}',
     "must be an object"),
    (b'{"app": "batchnorm-lab", "version": 1, "page": "lab", "settings": {"lr": {"x": 1}}}',
     "plain text or numbers; not so for lr"),
    (b" " * 30_000, "too big"),
])
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


@pytest.mark.parametrize(("data", "message"), [
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
])
def test_bad_point_files_are_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match=message):
        exchange.parse_points_csv(data)


def test_settings_json_is_plain_json():
    doc = json.loads(exchange.settings_json("x", {"seed": 3}))
    assert doc == {"app": "batchnorm-lab", "version": 1, "page": "x", "settings": {"seed": "3"}}
