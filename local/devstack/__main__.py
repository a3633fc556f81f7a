"""``python -m devstack`` (``make dev``): the whole system on http://127.0.0.1:$PORT.

See :mod:`devstack.stack` for what starts, in which order, and the environment knobs.
"""

from __future__ import annotations

import sys

from devstack.stack import main

if __name__ == "__main__":
    sys.exit(main())
