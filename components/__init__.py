"""UI building blocks: the shell, the filter bar and URL state, chart cards, KPI cards, themes."""
