"""The rooms of CityLens, one feature each (`overview`, `traffic`, `ecology`, `sdg`, `compare`,
`cities`, `data`, `upload`, `explorer`, `present`).

A room exposes its pages (`PAGES`, a tuple of `components.page.Page`) and `register(app,
services)` (`pages.services.Services`), which wires its callbacks and routes. `app.py` lists the
rooms in one place (`ROOMS`) and registers each; this package imports none of them, so a room
importing a sibling never runs the others' registrations.
"""
