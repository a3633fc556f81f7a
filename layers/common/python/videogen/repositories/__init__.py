"""Repositories: the only modules that hold SQL. Each function takes the session first; the
caller owns the transaction (``with session_scope() as s``)."""
