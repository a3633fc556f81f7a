"""The clip pipeline: a generate request becomes a job; the worker submits, polls and stores it.

Modules: ``request`` (validation, prompt, caps, queuing), ``steps`` (what every step shares),
``submit``, ``poll``, ``sweep`` (the rules), ``pacing`` (pure delays), ``worker`` (the facade
the functions call). The design, with its lifecycle and failure rules: docs/generation.md.
"""
