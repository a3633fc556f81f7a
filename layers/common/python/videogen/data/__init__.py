"""Everything that talks to PostgreSQL: ``db`` (one engine per container, sessions, the
connection's deadlines and IAM tokens), ``statements`` (hot statements compiled once per process),
``models`` (the ORM tables; the schema changes only through Alembic), ``repositories`` (all SQL)
and ``check`` (``python -m videogen.data.check``).

The rule for repositories: each is a module of functions that take what runs their SQL first and
leave the transaction to the caller (``with session_scope() as s``). That is a ``Session`` (the ORM
path: writes, transactions of several statements, the workers), or a ``statements.Runner`` where
the route is hot (one or two statements a request: status, get, list, search, create, patch), typed
``Session | Runner`` when both kinds of caller exist.

May import: SQLAlchemy, psycopg, ``runtime``, ``errors``, ``catalog`` (the providers a row may name).
Nothing here imports ``api``.
"""
