"""Evidence for decisions: interventions judged causally (difference in differences with
confidence intervals, event study, placebos, synthetic control), forecasts with intervals, and
incidents flagged from detector readings.

Data only (no Dash, no Flask): the pages, the CLI and the benchmarks build on these modules.
`model` holds the shapes every part exchanges.
"""
