"""Which objects travel by value and which by reference.

By value:
  - everything defined in ``__main__``;
  - the user's own modules: those whose file lies beside the script (``sys.path[0]``, or
    the working directory for ``-c``, ``-m`` and stdin) or under a ``PYTHONPATH`` entry.
    They may not exist at the destination, or differ there; they travel with their
    globals and are importable again under the same name;
  - any function or class that cannot be found again by its module and qualified name
    (a function nested in another, a class made by a factory).
By reference: builtins, the standard library, installed distributions (under the
interpreter's prefixes, its install paths or any ``site-packages``/``dist-packages``
directory; editable ones included) and teleporter itself, which the destination imports.

``register_by_value(name)`` and ``register_by_reference(name)`` force either for a module
(and its submodules).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any

_forced: dict[str, bool] = {}
_decided: dict[str, bool] = {}
_roots: list[str] | None = None
_installed: tuple[str, ...] | None = None


def register_by_value(module: str) -> None:
    """Always move `module` (and its submodules) by value."""
    _forced[module] = True
    _decided.clear()


def register_by_reference(module: str) -> None:
    """Always move `module` (and its submodules) by reference: the destination imports it."""
    _forced[module] = False
    _decided.clear()


def _user_roots() -> list[str]:
    global _roots
    if _roots is None:
        first = sys.path[0] if sys.path else ""
        roots = [os.path.realpath(first or os.getcwd())]
        for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
            if entry:
                roots.append(os.path.realpath(entry))
        _roots = [os.path.join(r, "") for r in roots]
    return _roots


def _installed_roots() -> tuple[str, ...]:
    """Where the interpreter and installed distributions live: never the user's own code,
    even when it lies below the script's directory (a virtual environment in it). The
    standard library and site directories are under these prefixes (sysconfig would say
    the same, at a cost of milliseconds in the middle of a move)."""
    global _installed
    if _installed is None:
        paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        _installed = tuple(os.path.join(os.path.realpath(p), "") for p in paths)
    return _installed


def _is_users_file(file: str) -> bool:
    path = os.path.realpath(file)
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    if path.startswith(_installed_roots()):
        return False
    return path.startswith(tuple(_user_roots()))


def _forced_for(name: str) -> bool | None:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        value = _forced.get(".".join(parts[:i]))
        if value is not None:
            return value
    return None


def module_by_value(name: str | None) -> bool:
    """True when the module `name` (and what it defines) must travel by value."""
    if name is None or name == "__main__":
        return True
    decided = _decided.get(name)
    if decided is not None:
        return decided
    mod = sys.modules.get(name)
    forced = _forced_for(name)
    if forced is not None:
        result = forced
    elif mod is None:
        result = True
    elif name == "teleporter" or name.startswith("teleporter."):
        result = False
    else:
        file = getattr(mod, "__file__", None)
        result = isinstance(file, str) and _is_users_file(file)
    _decided[name] = result
    return result


def defined_by_value(obj: Any) -> bool:
    """True for a function or class that the destination cannot import by name."""
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str) or module_by_value(module):
        return True
    found: Any = sys.modules[module]
    for part in getattr(obj, "__qualname__", "<>").split("."):
        found = getattr(found, part, None)
        if found is None:
            return True
    return found is not obj
