"""Hubbub's compiled readers (crdt/_native*.pyx) built again for the Python a system package runs on.

The copies in the source tree, which Briefcase copies into the bundle, were built for the venv's Python at
install: another interpreter (a pyenv one has a RUNPATH to its own lib/), and unstripped. `feed_briefcase.py`
replaces them, in every bundle, with modules built here by the system Python it runs on (it has no
pyproject.toml to read: only the two extensions), then stripped. If they cannot be built, the bundle goes
without them and the packaged app uses the Python readers (crdt/native.py), with one warning.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("_native", "_native_write")
BUILD = """
import sys
from Cython.Build import cythonize
from setuptools import Distribution, Extension
out, tmp = sys.argv[1], sys.argv[2]
mods = [Extension(f"crdt.{m}", [f"crdt/{m}.pyx"]) for m in sys.argv[3:]]
dist = Distribution({"ext_modules": cythonize(mods, build_dir=tmp, quiet=True,
                                              compiler_directives={"language_level": 3})})
cmd = dist.get_command_obj("build_ext")
cmd.build_lib, cmd.build_temp = out, tmp
dist.run_command("build_ext")
"""


def cython_requirement(root: Path = ROOT) -> str:
    """The Cython requirement of pyproject.toml's build-system, e.g. `cython>=3.0`."""
    import tomllib

    requires = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    found = [r for r in requires if r.lower().startswith("cython")]
    if len(found) != 1:
        raise SystemExit("native_build: pyproject.toml's build-system must require Cython once")
    return found[0]


def build(python: str = sys.executable, root: Path = ROOT) -> list[Path]:
    """Build and strip the compiled modules with `python`; returns them (in a temporary folder kept until exit)."""
    out = Path(tempfile.mkdtemp(prefix="hubbub-native-"))
    subprocess.run([python, "-m", "pip", "install", "-q", cython_requirement(root)], check=True)
    subprocess.run([python, "-c", BUILD, str(out), str(out / "tmp"), *MODULES], cwd=root, check=True)
    built = sorted((out / "crdt").glob("_native*.so"))
    if len(built) != len(MODULES):
        raise RuntimeError(f"built {len(built)} of {len(MODULES)} modules")
    strip = shutil.which("strip")
    if strip is not None:
        subprocess.run([strip, "--strip-unneeded", *map(str, built)], check=True)
    return built


def replace_in_bundles(app_dirs: list[Path], python: str = sys.executable) -> list[Path]:
    """Drop the source tree's compiled modules (and their C) from each bundle's app/crdt and put in fresh ones."""
    for app in app_dirs:
        for stale in [*app.glob("crdt/_native*.so"), *app.glob("crdt/_native*.c")]:
            stale.unlink()
    if not app_dirs:
        return []
    try:
        built = build(python)
    except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
        print(f"native_build: the compiled readers were not built for the package ({exc}); "
              "it will use the Python ones", file=sys.stderr)
        return []
    placed = []
    for app in app_dirs:
        for module in built:
            target = app / "crdt" / module.name
            shutil.copy(module, target)
            target.chmod(0o644)
            placed.append(target)
    return placed
