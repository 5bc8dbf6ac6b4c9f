"""Which objects travel by value and which by reference.

By value: everything defined in ``__main__`` (functions, classes and their code), and any
function or class whose module cannot be imported by name. By reference: builtins, the
standard library and importable modules, which the destination imports again.
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
    return module_by_value(getattr(obj, "__module__", None))
