"""The server's small state stores as records: analyst accounts, login counters and jobs.

Each store is one SQLite file in the data folder, opened through `db` (one connect helper: WAL,
a busy timeout, `BEGIN IMMEDIATE` write transactions), and its SQL lives in the module named
after it. The functions take a connection (or a path) and plain values and return plain values
(dicts, tuples, numbers), so what decides (hashing, limits, the job dispatcher) stays in
`server/` and another database could stand behind the same functions.
"""
