"""What the destination cannot rebuild is reported in one line naming it."""

import textwrap

from conftest import run_program


def test_missing_file_at_destination_is_named(tmp_path):
    """A file that cannot be reopened fails the rebuild at the destination: the origin
    gets a TeleportError naming it, before it lets go, and keeps running."""
    data = tmp_path / "vanishing.txt"
    program = tmp_path / "prog.py"
    program.write_text(
        textwrap.dedent(
            f"""
            import os
            import teleporter
            origin = os.getpid()
            f = open({str(data)!r}, "w")
            f.write("x")
            os.remove({str(data)!r})
            try:
                teleporter.teleport()
            except teleporter.TeleportError as e:
                print("refused:", e)
            print("still at the origin", os.getpid() == origin)
            """
        )
    )
    r = run_program(program)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    refusal, stayed = out.splitlines()
    assert refusal.startswith("refused: the destination could not rebuild the program: ")
    assert "cannot reopen the program's file" in refusal and str(data) in refusal
    assert stayed == "still at the origin True"


def test_unpicklable_inside_a_user_module_is_named(tmp_path):
    (tmp_path / "holder.py").write_text("import zlib\nLOCK = zlib.compressobj()\n")
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
    assert "global variable `holder`.LOCK is a zlib.Compress that cannot be moved" in out


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
