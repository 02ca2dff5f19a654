"""The presets a lesson page declares, read from its source without running it, so a test can
check that the settings it runs through the core are the page's own."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def page_presets(path):
    """{label: {name: URL text, or None where the page computes the value}} of every
    ui.Preset(label, blurb, params) in the page script at `path` (relative to the repo)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "Preset"
        ):
            label = ast.literal_eval(node.args[0])
            params = {}
            for key, value in zip(node.args[2].keys, node.args[2].values, strict=True):
                try:
                    params[ast.literal_eval(key)] = str(ast.literal_eval(value))
                except ValueError:
                    params[ast.literal_eval(key)] = None
            found[label] = params
    return found
