"""Page text that quotes a number of the core reads the core's constant (docs/DESIGN.md, "a
lesson page"): no literal text in pages/ spells out one of these numbers, so changing the
constant changes the words with it."""

import ast
from pathlib import Path

import pytest

from bn_core import exchange
from bn_core.batchnorm import DEFAULT_EPS
from bn_core.lessons import in_a_network, layer_norm, regularization, test_time, why_it_works

ROOT = Path(__file__).resolve().parents[1]


def _dims(*dims):
    return "-".join(map(str, dims))


QUOTED = {  # what a page says -> the text it would say it with, were it typed in
    "lesson 3's walk": f"{in_a_network.WALK_EXAMPLES} points of the",
    "lesson 4's network": " → ".join([str(test_time.LAYER_DIMS[0]), "[32 BN relu]"]),
    "lesson 4's training batch": f"mini-batches of {test_time.TRAIN_BATCH})",
    "lesson 4's ε in code": f"eps={DEFAULT_EPS:g}".replace("e-0", "e-"),
    "lesson 5's covariate-shift network": _dims(64, *why_it_works.SHIFT_HIDDEN, 10),
    "lesson 5's sweep network": _dims(2, *why_it_works.SWEEP_HIDDEN, 2),
    "lesson 5's final fraction": f"last {why_it_works.FINAL_FRACTION:.0%}",
    "lesson 6's noise network": _dims(*regularization.NOISE_DIMS),
    "lesson 8's sweep network": _dims(64, *layer_norm.HIDDEN, 10),
    "lesson 8's sweep size": f"{len(layer_norm.NORMS) * len(layer_norm.SWEEP_BATCH_SIZES)} "
    "networks",
    "the lab's class counts": f"points, {exchange.MIN_CLASSES} to ",
}


def _literal_texts(path):
    """Every piece of literal text in a page's source (f-strings' literal parts included)."""
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.parametrize("fact", QUOTED)
def test_pages_read_the_core_constants_they_quote(fact):
    typed = [
        (path.name, text)
        for path in sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "bn_app").glob("*.py")])
        for text in _literal_texts(path)
        if QUOTED[fact] in text
    ]
    assert not typed, f"{fact}: typed in instead of read from the core: {typed}"


def test_a_number_is_written_as_the_course_writes_it():
    from bn_app import ui

    assert [ui.num(x) for x in (1e-5, 1e-8, 0.9, 1 - 0.9, 2.0, 1e20)] == [
        "1e-5",
        "1e-8",
        "0.9",
        "0.1",
        "2",
        "1e+20",
    ]
