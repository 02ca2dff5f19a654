"""The import graph, read from the source with `ast` (nothing is imported): arrows point down.

    app.py, pages/      may import anything below; bn_app first (the one warm-up import)
    bn_app              what the pages share: anything below, never a page
    bn_live, bn_a11y    the components: Streamlit, NumPy, Plotly (bn_live), never the lessons
    bn_viz              bn_core, NumPy, Plotly; never Streamlit
    bn_core             NumPy alone (one lazy exception below); never Plotly or Streamlit

Every import statement counts, at the top of a module or inside a function; the standard
library is allowed everywhere. docs/DESIGN.md describes the layers.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = frozenset(sys.stdlib_module_names)

# What each package's modules may import besides the standard library (top-level names).
ALLOWED = {
    "bn_core": {"bn_core", "numpy"},
    "bn_viz": {"bn_viz", "bn_core", "numpy", "plotly"},
    "bn_live": {"bn_live", "numpy", "plotly", "streamlit"},
    "bn_a11y": {"bn_a11y", "streamlit"},
}
# The one exception: the digits data set ships with scikit-learn, and bn_core/data.py imports
# it inside the loader, on first use, so that importing the core never loads scikit-learn.
LAZY_EXCEPTIONS = {("bn_core/data.py", "sklearn.datasets")}
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def imports(path, root=ROOT):
    """[(module, line, in_function)] for every import statement of the file at `path`;
    relative imports are resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    found = []

    def visit(node, in_function):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            found.append(
                (
                    ".".join([*base, *([node.module] if node.module else [])]),
                    node.lineno,
                    in_function,
                )
            )
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or isinstance(node, FUNCTIONS))

    visit(tree, False)
    return found


def modules(package):
    return sorted((ROOT / package).rglob("*.py"))


def forbidden_imports(package):
    """["file:line imports module"] for each import outside the package's ALLOWED list."""
    bad = []
    for path in modules(package):
        rel = path.relative_to(ROOT).as_posix()
        for module, line, in_function in imports(path):
            top = module.partition(".")[0]
            if top in STDLIB or top in ALLOWED[package]:
                continue
            if in_function and (rel, module) in LAZY_EXCEPTIONS:
                continue
            bad.append(f"{rel}:{line} imports {module}")
    return bad


def test_the_reader_sees_every_kind_of_import(tmp_path):
    pkg = tmp_path / "pkg" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "mod.py").write_text(
        "import os, numpy as np\n"
        "from . import sibling\n"
        "from ..other import thing\n"
        "def f():\n"
        "    import streamlit as st\n"
        "    class C:\n"
        "        def g(self):\n"
        "            from plotly import io\n"
        "try:\n"
        "    import sklearn\n"
        "except ImportError:\n"
        "    pass\n"
    )
    assert imports(pkg / "mod.py", root=tmp_path) == [
        ("os", 1, False),
        ("numpy", 1, False),
        ("pkg.sub", 2, False),
        ("pkg.other", 3, False),
        ("streamlit", 5, True),
        ("plotly", 8, True),
        ("sklearn", 10, False),
    ]


def assert_imports_allowed(package):
    bad = forbidden_imports(package)
    assert not bad, (
        f"{package} may import only the standard library and "
        f"{', '.join(sorted(ALLOWED[package]))}:\n  " + "\n  ".join(bad)
    )


def test_every_layer_has_modules_to_check():
    for package in ALLOWED:
        assert modules(package), f"{package}/ has no Python module: is ROOT right?"


def test_bn_core_imports_only_numpy_and_the_standard_library():
    assert_imports_allowed("bn_core")


def test_bn_viz_imports_no_streamlit_only_numpy_plotly_and_bn_core():
    assert_imports_allowed("bn_viz")


@pytest.mark.parametrize("package", ["bn_live", "bn_a11y"])
def test_the_components_import_neither_the_core_nor_the_figures(package):
    assert_imports_allowed(package)


def test_the_lazy_exception_is_still_lazy_and_still_needed():
    # If the digits stop coming from scikit-learn, drop the exception; if its import moves to
    # the top of the module, the bn_core test above fails.
    for rel, module in LAZY_EXCEPTIONS:
        found = [(m, in_function) for m, _, in_function in imports(ROOT / rel) if m == module]
        assert found, f"{rel} no longer imports {module}: remove it from LAZY_EXCEPTIONS"
        assert all(in_function for _, in_function in found), f"{rel} must import {module} lazily"


@pytest.mark.parametrize("package", sorted([*ALLOWED, "bn_app"]))
def test_no_import_hides_from_the_reader(package):
    # importlib.import_module("...") or __import__("...") would step around the checks above.
    hidden = []
    for path in modules(package):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "importlib.import_module",
                "import_module",
                "__import__",
            ):
                hidden.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    assert not hidden, "imports by name at run time: " + ", ".join(hidden)


def test_bn_app_imports_no_page():
    bad = [
        f"{path.relative_to(ROOT).as_posix()}:{line} imports {module}"
        for path in modules("bn_app")
        for module, line, _ in imports(path)
        if module.partition(".")[0] in ("pages", "app")
    ]
    assert not bad, bad


def test_the_warm_up_loads_pandas_and_plotly():
    # bn_app's import lock is what keeps parallel first imports of these apart (its docstring)
    warmed = {
        m.partition(".")[0]
        for m, _, inside in imports(ROOT / "bn_app" / "__init__.py")
        if not inside
    }
    assert {"pandas", "plotly"} <= warmed


def test_the_labs_options_are_plain_python():
    # bn_app/lab_options.py is unit-tested without Streamlit: it imports the core at most
    found = {m.partition(".")[0] for m, _, _ in imports(ROOT / "bn_app" / "lab_options.py")}
    assert found - STDLIB <= {"bn_core"}, found - STDLIB


def _entry_scripts():
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


@pytest.mark.parametrize("script", _entry_scripts(), ids=lambda p: p.name)
def test_bn_app_is_the_first_import_of_every_script_streamlit_runs(script):
    # bn_app loads pandas and Plotly under its import lock (see its docstring). A page that a
    # cold server runs on its own (Streamlit's old folder-of-pages mode) must not reach them
    # first: its first import beyond the standard library is bn_app.
    first = next(
        (
            module
            for module, _, in_function in imports(script)
            if not in_function and module.partition(".")[0] not in STDLIB
        ),
        None,
    )
    assert first is not None and first.partition(".")[0] == "bn_app", (
        f"{script.name} imports {first} before bn_app"
    )
