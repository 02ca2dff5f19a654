"""Plotly figure builders: pure functions from bn_core records to go.Figure. No Streamlit."""
