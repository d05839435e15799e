"""cltv: raw retail invoice lines to customer lifetime value predictions and segments."""

__version__ = "0.1.0"
