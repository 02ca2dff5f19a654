"""Home: what the app teaches, the batch-norm equations, and a link to every page."""

from bn_app import ui
from bn_app.catalog import LESSONS

import streamlit as st

ui.start_page("home", "BatchNorm Lab", "🧪")
st.markdown(
    "An interactive companion to the **Batch Normalization** lecture. Train small networks "
    "live, flip batch norm on and off, drop the bias *b*, change the optimizer and drag "
    "*γ* and *β*, and watch the distributions, mini-batch statistics and loss curves answer."
)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Batch norm on one hidden layer, for a mini-batch of m examples")
    st.latex(r"z^{[l]} = W^{[l]} a^{[l-1]}")
    st.caption(
        "No + b: the mean subtraction below cancels any bias, so batch norm eliminates "
        "it (β takes its place)."
    )
    st.latex(
        r"\mu = \frac{1}{m}\sum_{i} z^{(i)} \qquad "
        r"\sigma^2 = \frac{1}{m}\sum_{i} \left(z^{(i)} - \mu\right)^2"
    )
    st.latex(
        r"z^{(i)}_{\text{norm}} = \frac{z^{(i)} - \mu}{\sqrt{\sigma^2 + \varepsilon}} "
        r"\qquad \tilde z^{(i)} = \gamma\, z^{(i)}_{\text{norm}} + \beta"
    )
    st.latex(r"a^{[l]} = g^{[l]}\!\left(\tilde z^{[l]}\right)")
    st.caption(
        "γ and β are learned like W. At test time μ and σ² come from exponentially weighted "
        "averages kept during training. Watch out for a common slip: the denominator is "
        "√(σ² + ε), not σ²."
    )
with right:
    st.subheader("The pages")
    for page in LESSONS:
        st.page_link(page.file, label=page.title, icon=page.icon)
        st.caption(page.blurb)

ui.end_page()
