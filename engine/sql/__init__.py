"""The SQL engines: a checked pack compiled to sqlglot expression trees.

The same rules that the Python engine runs row by row are compiled here into
one query per pack, built as sqlglot trees (never pasted strings), and run by
DuckDB in-process, by Spark, or printed as a warehouse dialect's SQL text.

Modules, in the direction of their dependencies:

- ``types``: the SQL type of each field type;
- ``textops``: Python's whitespace, digits and case as explicit regex classes, quoting
  for messages, and ``let`` (a value bound once inside an expression);
- ``coerce`` (with ``dates``): raw export text to typed values and reject reasons,
  exactly as ``engine.values`` reads them; ``Unsupported`` for what cannot be exact;
- ``expr``: the typed expression IR (``engine.expr.ir``) to SQL;
- ``text``: output cells (CSV, JSON) rendered exactly as ``engine.render`` does;
- ``score``: the scoring query;
- runners (``duckdb``, ``spark``): read sources, run the query, stream out.
"""
