"""Plotly figure builders: each takes analysis tables and returns a ``plotly.graph_objects.Figure``."""
