"""What the destination cannot rebuild is reported in one line naming it."""

import textwrap

from conftest import run_program


def test_missing_file_at_destination_is_named(tmp_path):
    data = tmp_path / "vanishing.txt"
    program = tmp_path / "prog.py"
    program.write_text(
        textwrap.dedent(
            f"""
            import os
            import teleporter
            f = open({str(data)!r}, "w")
            f.write("x")
            os.remove({str(data)!r})
            teleporter.teleport()
            print("never")
            """
        )
    )
    r = run_program(program)
    err = r.stderr.decode()
    assert r.returncode == 2
    assert r.stdout == b""
    assert err.count("\n") == 1
    assert "cannot reopen the program's file" in err and str(data) in err


def test_unpicklable_inside_a_user_module_is_named(tmp_path):
    (tmp_path / "holder.py").write_text("import threading\nLOCK = threading.Lock()\n")
    program = tmp_path / "prog.py"
    program.write_text(
        "import holder, teleporter\n"
        "try:\n"
        "    teleporter.teleport()\n"
        "except teleporter.TeleportError as e:\n"
        "    print(e)\n"
    )
    r = run_program(program)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert "global variable `holder`.LOCK is a _thread.lock that cannot be moved" in out
