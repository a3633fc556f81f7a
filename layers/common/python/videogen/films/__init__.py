"""The film pipeline: ``request`` (scene order, clips, the row, its first message), ``steps``
(what every step stands on), ``plan``, ``normalize_step``, ``assemble_step`` (the steps), ``sweep``
(sweeper and dead letters) and ``compiler`` (the facade the film compiler function calls); the
PyAV media core apart in ``media``. ``frame_step`` is not a film's: it makes a continuing shot's
first frame (the one clip work that needs PyAV outside a film). The design: docs/films.md.

May import: ``runtime``, ``data``, ``storage``, ``messaging``, ``errors``; ``media`` only from the
steps the film compiler runs (every other function imports without PyAV); ``frame_step`` also
``generation.waiting`` and ``references.job_images`` (a continuing job's rules).
"""
