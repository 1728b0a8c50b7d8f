"""Page queries: (engine, city_id, filters, ...) -> small aggregated pandas frames.

Each module (or package of modules) serves one page; the GROUP BY and the filters run inside the
DuckDB Parquet scan. The explorer's queries take one dataset and a checked spec instead of a
city and the page filters.
"""
