"""The film's media core with PyAV: ``clips`` (probe, the signature stream copy needs, the film's
target), ``normalize`` (re-encode one clip to the target), ``assemble`` (concatenate by stream
copy), ``verify`` (every packet decodes, durations add up) and ``avcc`` (H.264 parameter sets).

May import: PyAV and the standard library only (no database, no AWS): pure media work on files.
"""
