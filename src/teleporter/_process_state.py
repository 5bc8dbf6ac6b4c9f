"""Interpreter and library state that a program sets at run time and that changes what it
computes (see the README's "What moves" list): captured at the origin with the rest of
the program, restored at the destination once the program's objects are rebuilt.

Each carrier is a pair of functions: ``capture() -> state or None`` (None: nothing to
carry, e.g. the module was never imported) and ``restore(state)``. A state that cannot
travel is refused by name (TeleportError), never dropped.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _random_capture() -> Any:
    random = sys.modules.get("random")
    return random.getstate() if random is not None else None


def _random_restore(state: Any) -> None:
    import random

    random.setstate(state)


# name -> (capture, restore), in the order they are restored.
CARRIERS: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {
    "random": (_random_capture, _random_restore),
}


def capture() -> dict[str, Any]:
    """What each carrier has to carry (carriers with nothing to carry are left out)."""
    found = {}
    for name, (take, _give) in CARRIERS.items():
        state = take()
        if state is not None:
            found[name] = state
    return found


def restore(states: dict[str, Any]) -> None:
    for name, (_take, give) in CARRIERS.items():
        if name in states:
            give(states[name])
