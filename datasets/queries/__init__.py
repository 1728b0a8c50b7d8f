"""Page queries: (engine, city_id, filters, ...) -> small aggregated pandas frames.

Each module serves one page; the GROUP BY and the filters run inside the DuckDB Parquet scan.
"""
