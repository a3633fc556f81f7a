"""Benchmarks of the storyboard video backend: each figure a ratio against a floor measured in
the same run (``make bench``; see ``bench/__main__.py``). Nothing here is imported by the
functions; timings are never asserted in tests."""
