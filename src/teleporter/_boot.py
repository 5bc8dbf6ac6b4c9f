"""The destination's entry point: ``python -c "import teleporter._boot as b; b.main()"``.

Reads one payload from stdin (exactly its length: what follows is the program's own
stdin), rebuilds the program and runs it. An uncaught exception is reported the way the
interpreter would have reported it in the original process: the traceback starts at the
program's own module frame.
"""

from __future__ import annotations

import os
import sys

from . import _payload, _state
from .errors import PayloadError


def _report_uncaught(e: BaseException) -> None:
    tb = e.__traceback__
    # Drop teleporter's own frames: the program's traceback starts at its __main__ frame.
    while tb is not None and str(tb.tb_frame.f_globals.get("__name__")).startswith("teleporter."):
        tb = tb.tb_next
    e.__traceback__ = tb
    sys.excepthook(type(e), e, tb)


def main() -> None:
    try:
        _meta, body, buffers, _info = _payload.read(0)
        _state.restore(body, buffers)
    except PayloadError as e:
        print(f"teleporter: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt as e:
        import signal

        _report_uncaught(e)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException as e:
        _report_uncaught(e)
        sys.exit(1)
