"""Pure figure builders: a small frame and a FigureContext in, a plotly figure out."""
