"""The one way to import a function's handler module by its path, as the Lambda runtime does.

Lambda puts the function's CodeUri first on ``sys.path`` and imports the Handler's module.
Every function's module is an ``app.py``, so here each gets a module name of its own. The
local runtime, the in-process harness, the OpenAPI generator, the template tests and the
cold-start benchmark all import through :func:`import_handler_module`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"


def handler_file(code_uri: Path, module: str) -> Path:
    """The file of a Handler's module: ``app`` in ``functions/health`` is functions/health/app.py."""
    return code_uri / f"{module.replace('.', '/')}.py"


def import_handler_module(
    code_uri: Path, module: str, *, name: str | None = None, keep_on_path: bool = False
) -> ModuleType:
    """Import the Handler module ``module`` of ``code_uri`` under ``name``, once per process.

    ``name`` defaults to ``function_<folder>_<module>``. ``keep_on_path``: the process holds
    this one function (the local runtime, a fresh interpreter), so ``code_uri`` stays first on
    ``sys.path`` as in Lambda. Otherwise it leaves again and the modules imported from it are
    forgotten, so that they cannot shadow another function's modules of the same name.
    """
    name = name or f"function_{code_uri.name}_{module.replace('.', '_')}"
    if name in sys.modules:
        return sys.modules[name]
    path = handler_file(code_uri, module)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (Handler module {module!r})")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    folder = str(code_uri)
    before = set(sys.modules)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # as a real import does (dataclasses look their module up)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        if not keep_on_path:
            sys.path.remove(folder)
            _forget_modules_under(folder, set(sys.modules) - before - {name})
    return loaded


def load_function(name: str) -> ModuleType:
    """``functions/<name>/app.py`` imported as ``function_<name>_app``, once per process."""
    return import_handler_module(FUNCTIONS / name, "app")


def _forget_modules_under(folder: str, names: set[str]) -> None:
    for module_name in names:
        if (getattr(sys.modules.get(module_name), "__file__", None) or "").startswith(folder + os.sep):
            del sys.modules[module_name]
