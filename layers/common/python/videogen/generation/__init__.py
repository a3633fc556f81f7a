"""The clip pipeline: a generate request becomes a job; the worker submits, polls and stores it.

Modules: ``request`` (validation, caps, queuing), ``prompt`` (prompts and fingerprints),
``batch`` (a whole storyboard), ``cancel`` (the user's cancel), ``usage`` (spend), ``steps``
(what every step shares), ``submit``, ``poll``, ``provider_cancel``, ``sweep`` (the rules),
``pacing`` (pure delays), ``worker`` (the facade the functions call), ``continuity`` (which clip
a scene continuing the previous shot continues) and ``waiting`` (such a job's submit, waiting on
that clip). The design, with its lifecycle and failure rules: docs/generation.md.
"""
