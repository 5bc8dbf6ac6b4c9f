"""Which objects travel by value and which by reference.

By value: everything defined in ``__main__``, and any function or class that the
destination could not find again by its module and qualified name (a function nested in
another, a class made by a factory, a module that is not importable). By reference:
builtins, the standard library and importable modules, which the destination imports.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any


def module_by_value(name: str | None) -> bool:
    """True when objects whose ``__module__`` is ``name`` must travel by value."""
    if name is None or name == "__main__":
        return True
    return sys.modules.get(name) is None


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
