"""Wire models, one module per resource: camelCase on the wire, wire-compatible with the earlier
app. ``storyboards`` (with the shared base ``WireModel`` and the scene and clip shapes), ``jobs``,
``keys``, ``catalog``, ``films``, ``references``, ``webhooks``.

May import: pydantic, ``errors``, ``catalog``, ``data.models`` (for ``from_row`` shapes).
"""
