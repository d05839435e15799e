"""The marketers' dashboard: a Streamlit app that reads only the published serving file of gold."""
