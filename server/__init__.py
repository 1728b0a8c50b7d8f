"""The server-side room: what runs behind the pages and never draws them.

Analyst accounts and sessions, the login pages and throttling, the request guards (body limits,
security headers, payload checks), the jobs routes, and the one job store every server process
shares (exports, upload stages). Its state stores are records in `datasets.records`; `datasets/`
never imports this package, and pages and components reach it through the Flask app they are
registered on.
"""
