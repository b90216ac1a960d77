"""The fm-audit dashboard: `fm-audit dashboard [REPORTS_DIR]` starts it (bound to localhost).

Pages are files, so that each can be tested on its own with Streamlit's AppTest.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="fm-audit dashboard", layout="wide")

PAGES = [
    st.Page("views/overview.py", title="Overview", default=True),
    st.Page("views/capability.py", title="Capability"),
    st.Page("views/bias.py", title="Bias"),
    st.Page("views/multilingual.py", title="Multilingual"),
    st.Page("views/misuse.py", title="Misuse"),
    st.Page("views/compare.py", title="Compare"),
    st.Page("views/samples.py", title="Samples"),
    st.Page("views/energy.py", title="Energy"),
]

st.navigation(PAGES).run()
