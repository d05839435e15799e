"""The dashboard's pages: each `render()` loads what it shows through one read of the serving file."""
