"""End-to-end benchmark of the cltv pipeline: `python -m bench.run --rows N [--incremental]`."""
