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


def test_installed_code_below_the_script_travels_by_reference(tmp_path):
    """A virtual environment or site-packages directory inside the script's directory is
    installed code, not the user's: it is imported again at the destination (module state
    is not carried), while a module beside the script is carried with its state."""
    site = tmp_path / "venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "installed_pkg.py").write_text("VALUE = 'fresh'\n")
    (tmp_path / "own_mod.py").write_text("VALUE = 'fresh'\n")
    program = tmp_path / "prog.py"
    program.write_text(
        "import sys\n"
        f"sys.path.append({str(site)!r})\n"
        "import installed_pkg, own_mod, teleporter\n"
        "installed_pkg.VALUE = own_mod.VALUE = 'changed'\n"
        "teleporter.teleport()\n"
        "print(installed_pkg.VALUE, own_mod.VALUE)\n"
    )
    r = run_program(program)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode() == "fresh changed\n"
