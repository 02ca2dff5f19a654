"""The app side of BatchNorm Lab: what the Streamlit pages in pages/ share.

- `ui`: controls bound to the URL, presets, presentation mode, text from users, errors;
- `catalog`: the pages in lesson order (file, title, icon, blurb, address);
- `lab_options`: the Training Lab's option lists, pacing and wording, plain Python;
- `lab_sidebar`, `lab_live`, `lab_gamma_beta`: the Training Lab's sidebar, its live charts'
  bookkeeping and pace, and its "Edit γ and β" panel;
- `a11y.css`: focus rings, reflow at 320 px, reduced motion.

Importing this package loads pandas and Plotly first, once. Streamlit runs each
session's script in its own thread, and on a cold server sessions that open at the same moment
would otherwise import those libraries in parallel; their internal import cycles can then hand
a thread a half-initialized module ("partially initialized module 'pandas'"). Here one thread
imports them while the others wait on this package's import lock. So `bn_app` is the first
import of app.py and of every page script (ruff's isort keeps it first: see `pyproject.toml`),
and no page imports pandas or Plotly before it. (scikit-learn, for the digits only, is
imported on first use under a lock of its own in `bn_core/data.py`.)
"""

import pandas  # noqa: F401
import plotly.graph_objects
import plotly.io
import plotly.subplots  # noqa: F401
