"""Refuses, at import, a CPython build that teleporter does not support, before the
extension loads: a free-threaded build (``python3.14t``), whose frames and threads work
differently."""

from __future__ import annotations

import sys

if "t" in getattr(sys, "abiflags", ""):
    _v = f"{sys.version_info[0]}.{sys.version_info[1]}"
    raise ImportError(
        f"teleporter does not support free-threaded CPython (python{_v}t) yet: "
        f"use the default build (python{_v})"
    )
