"""A build-artifact stager with pathlib and tempfile: a TemporaryDirectory (inside the
given work dir) holds generated sources before the move; after it the stager globs,
bundles and verifies them, then the temporary tree is cleaned up by its context."""

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import teleporter

workdir = Path(sys.argv[1])
tmp = tempfile.TemporaryDirectory(prefix="stage-", dir=workdir)
root = Path(tmp.name)
for pkg in ("core", "util", "cli"):
    d = root / "src" / pkg
    d.mkdir(parents=True)
    (d / "__init__.py").write_text(f'"""{pkg} package."""\n')
    for n in range(3):
        (d / f"mod{n}.py").write_text(f"VALUE = {len(pkg) * 10 + n}\n" * (n + 1))
(root / "README.txt").write_text("staged build\n")
scratch = tempfile.NamedTemporaryFile("w+", suffix=".lst", dir=root, delete=False)
scratch.write("manifest pending\n")
scratch.flush()
print("created:", sum(1 for _ in root.rglob("*.py")), "python files")

teleporter.teleport()

files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
print("files:", [f for f in files if not f.endswith(".lst")])
digest = hashlib.sha256()
for rel in files:
    if rel.endswith(".py"):
        digest.update(rel.encode() + b"\0" + (root / rel).read_bytes())
print("tree sha:", digest.hexdigest()[:16])
scratch.seek(0, os.SEEK_END)
scratch.write("\n".join(files) + "\n")
scratch.seek(0)
print("manifest lines:", len(scratch.read().splitlines()))
scratch.close()
archive = shutil.make_archive(str(root / "bundle"), "zip", root_dir=root / "src")
print("archive:", Path(archive).name, Path(archive).stat().st_size > 0)
print("suffixes:", sorted({p.suffix for p in root.rglob("*")}), "stem:", Path(archive).stem)
print("with_suffix:", (root / "src" / "core" / "mod1.py").with_suffix(".pyc").name)
tmp.cleanup()
print("cleaned:", not root.exists(), "workdir empty:", not any(workdir.iterdir()))
