"""BatchNorm Lab: the router. Run with `streamlit run app.py`."""

from bn_app import ui  # first: see bn_app's docstring
from bn_app.catalog import HOME, LESSONS

import streamlit as st

st.set_page_config(page_title="BatchNorm Lab", page_icon="🧪", layout="wide")

pages = [st.Page(HOME.file, title=HOME.title, icon=HOME.icon, default=True)]
pages += [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path) for p in LESSONS]
ui.guarded(st.navigation(pages).run)()
