"""Errors raised by teleporter. Each carries the exit code a command-line use reports."""

from __future__ import annotations


class TeleportError(Exception):
    """The program could not be moved. Raised before the hand-off: the origin keeps running."""

    exit_code = 1


class PayloadError(TeleportError):
    """A payload or checkpoint is corrupt, truncated, foreign or for another interpreter."""

    exit_code = 2
