"""Plotly figure builders: pure functions from bn_core records to go.Figure. No Streamlit.

Plotly (and the pandas it pulls in) are imported here, under this package's import lock: web
sessions that start at once then wait for one thread to finish importing them, instead of
importing them in parallel, which can hand a thread a half-initialized module.
"""

import plotly.graph_objects
import plotly.io
import plotly.subplots  # noqa: F401
