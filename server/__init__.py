"""The server-side room: what runs behind the pages and never draws them.

Sessions, login throttling, the request guards (body limits, security headers, payload checks)
and the one job store every server process shares. `datasets/` never imports it; pages and
components reach it through the Flask app they are registered on.
"""
