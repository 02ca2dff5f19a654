"""Import everything the pages use, once, before a page runs.

Streamlit runs each session's script in its own thread. On a cold server, sessions that open
at the same moment import pandas, Plotly and our modules in parallel, and Python's import locks
can then hand a thread a half-initialized module ("partially initialized module 'pandas'").
app.py and pages.ui (every page's first import) import this module first: one thread does
all the importing while the others wait on this module's own import lock.
"""

import importlib
import pkgutil

import pandas  # noqa: F401
import sklearn.datasets  # noqa: F401

import bn_a11y  # noqa: F401
import bn_core
import bn_core.lessons
import bn_viz

for package in (bn_core, bn_core.lessons, bn_viz):
    for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
