"""The layer-norm page through AppTest: the matrix with both normalizations, γ, β, ε acting on
both, batch norm's refusal of one example, train against eval outputs, |db|, the sweep on its
button with its table and verdict, presets and the link."""

from pathlib import Path

import numpy as np
import pytest

from tests import apptest
from tests.apptest import assert_clean, run_page
from tests.plotly_spec import decode, specs

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/layer_norm.py"


def chart(at, title_part):
    """The first figure whose title or subplot titles contain title_part."""
    for spec in specs(at):
        layout = spec["layout"]
        titles = [layout.get("title", {}).get("text") or ""]
        titles += [a.get("text", "") for a in layout.get("annotations", [])]
        if any(title_part in t for t in titles):
            return spec
    raise AssertionError(f"no figure titled {title_part!r}")


def outputs(at):
    """(batch-norm Z_tilde, layer-norm Z_tilde) from the outputs figure."""
    data = chart(at, "each ROW has mean β")["data"]
    return decode(data[0]["z"]), decode(data[1]["z"])


@pytest.fixture(scope="module")
def at():
    return apptest.open_page(PAGE, timeout=120)


def test_opens_with_every_part_but_the_sweep(at):
    assert len(specs(at)) == 5  # matrix, outputs, one-at-a-time, test time, |db|
    assert len(at.latex) >= 3
    [error] = at.error
    assert "at least 2 examples" in error.value and "m=1" in error.value
    labels = [m.label for m in at.metric]
    assert labels == [
        "Layer norm's test accuracy",
        "|db| batch norm (last step)",
        "|db| layer norm (last step)",
    ]
    assert float(at.metric[0].value.rstrip("%")) > 60
    assert any("Press the button" in c.value for c in at.caption)


def test_gamma_beta_eps_act_on_both(at):
    bn_out, ln_out = outputs(at)
    assert np.allclose(bn_out.mean(axis=1), 0, atol=1e-5)
    assert np.allclose(ln_out.mean(axis=0), 0, atol=1e-5)
    at.slider(key="layer_norm.gamma").set_value(2.0).run()
    at.slider(key="layer_norm.beta").set_value(1.0).run()
    assert_clean(at)
    bn_out, ln_out = outputs(at)
    assert np.allclose(bn_out.mean(axis=1), 1.0, atol=1e-5)  # rows under batch norm
    assert np.allclose(ln_out.mean(axis=0), 1.0, atol=1e-5)  # columns under layer norm
    assert np.allclose(bn_out.std(axis=1), 2.0, atol=1e-3)
    assert np.allclose(ln_out.std(axis=0), 2.0, atol=1e-3)
    at.select_slider(key="layer_norm.eps").set_value(10.0).run()
    bn_out, ln_out = outputs(at)
    assert bn_out.std(axis=1).max() < 1.9 and ln_out.std(axis=0).max() < 1.9
    assert float(at.query_params["gamma"]) == 2.0 and float(at.query_params["eps"]) == 10.0


def test_eval_output_differs_for_batch_norm_only(at):
    at.select_slider(key="layer_norm.m").set_value(2).run()
    assert_clean(at)
    titles = [
        a["text"] for a in chart(at, "layer norm: largest difference")["layout"]["annotations"]
    ]
    bn_gap = float(titles[0].rsplit(" ", 1)[1])
    ln_gap = float(titles[1].rsplit(" ", 1)[1])
    assert bn_gap > 1e-3 and ln_gap < 1e-12
    db = {t["name"]: decode(t["y"]) for t in chart(at, "The gradient of b")["data"]}
    assert db["batch norm"].max() < 1e-9  # 0 up to rounding
    assert db["layer norm"].min() > 1e-4


def test_the_sweep_runs_on_its_button_and_stays():
    at = run_page(PAGE, {"seen": "1024"}, timeout=180)
    assert_clean(at)
    n_before = len(specs(at))
    at.button(key="layer_norm.run_sweep").click().run()
    assert_clean(at)
    sweep = chart(at, "Test accuracy after the same number of examples seen")
    assert [t["name"] for t in sweep["data"]] == ["batch norm", "layer norm", "no normalization"]
    assert all(decode(t["x"]).tolist() == [2, 4, 8, 16, 32, 64] for t in sweep["data"])
    [table] = at.dataframe
    assert list(table.value.columns) == ["m", "batch norm", "layer norm", "no normalization"]
    assert any(
        ("As expected" in md.value or "data disagree" in md.value) and "only 16 steps" in md.value
        for md in at.markdown
    )
    at.slider(key="layer_norm.gamma").set_value(1.5).run()  # another control: the sweep stays
    assert len(specs(at)) == n_before + 1
    at.button(key="preset.layer_norm.A huge ε").click().run()  # and so does a preset
    assert_clean(at)
    assert at.select_slider(key="layer_norm.eps").value == 10.0
    assert len(specs(at)) == n_before + 1


def test_presets_load():
    at = run_page(PAGE, timeout=120)
    assert_clean(at)
    at.button(key="preset.layer_norm.Scale and shift").click().run()
    assert_clean(at)
    assert at.slider(key="layer_norm.gamma").value == 2.0
    assert at.slider(key="layer_norm.beta").value == 1.0
    at.button(key="preset.layer_norm.Mini-batches of 2").click().run()
    assert at.select_slider(key="layer_norm.m").value == 2
    assert at.slider(key="layer_norm.gamma").value == 1.0
    assert_clean(at)


def test_a_link_sets_the_controls():
    at = run_page(PAGE, {"gamma": "0.5", "eps": "1", "m": "16", "bogus": "1"})
    assert_clean(at)
    assert at.slider(key="layer_norm.gamma").value == 0.5
    assert at.select_slider(key="layer_norm.eps").value == 1.0
    assert at.select_slider(key="layer_norm.m").value == 16
    assert "bogus" not in at.query_params


@pytest.mark.parametrize(
    "query, shown", [({}, 1), ({"example_no": "4"}, 4), ({"ex": "3"}, 4)]
)  # an older, 0-based link
def test_the_test_example_is_shown_from_1_and_old_links_still_work(query, shown):
    from bn_core.lessons.layer_norm import side_by_side

    at = run_page(PAGE, query, timeout=120)
    assert_clean(at)
    slider = at.slider(key="layer_norm.example_no")
    assert (slider.min, slider.max, slider.value) == (1, 20, shown)
    assert "ex" not in at.query_params and not at.toast
    bars = chart(at, "largest difference")["data"][0]
    expected = side_by_side(150, 8, shown - 1).train_probs["batch"]  # the core's 0-based index
    assert np.allclose(decode(bars["y"]), expected, atol=1e-6)
