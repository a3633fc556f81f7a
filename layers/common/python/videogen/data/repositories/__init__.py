"""Repositories: the only modules that hold SQL, one per table or per request's SQL. Each function
takes its ``Session`` (or hot ``statements.Runner``) first; the caller owns the transaction (``with
session_scope() as s``). See ``videogen.data`` for when each is taken."""
