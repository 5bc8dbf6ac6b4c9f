"""teleporter: move a running Python program to another process, natively.

import teleporter
teleporter.teleport()   # the rest of the program runs in a new local process
"""

from __future__ import annotations

from . import (
    _supported,  # noqa: F401  (refuses a free-threaded build at import)
    _teleporter_impl,  # noqa: F401  (refuses an unsupported interpreter at import)
)
from ._api import (
    acheckpoint,
    afork,
    ateleport,
    checkpoint,
    checkpoint_on,
    fork,
    fork_shell,
    resume,
    teleport,
    tp_bash,
    tp_dummy,
    tp_shell,
)
from ._version import __version__
from .errors import PayloadError, TeleportError
from .policy import register_by_reference, register_by_value

__all__ = [
    "__version__",
    "teleport",
    "fork",
    "fork_shell",
    "checkpoint",
    "checkpoint_on",
    "resume",
    "ateleport",
    "afork",
    "acheckpoint",
    "tp_dummy",
    "tp_bash",
    "tp_shell",
    "TeleportError",
    "PayloadError",
    "register_by_value",
    "register_by_reference",
]
