"""Builds Hubbub's compiled modules: crdt/_native.pyx and crdt/_native_write.pyx (the fast paths of the entry and
update readers and of the sync frame writer).

Everything else is in pyproject.toml. Both are optional: without a C compiler the install goes on (with one
warning) and the Python readers, which are the reference, do all the work (crdt/native.py).
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that warns instead of failing: setuptools' `optional=True` is not honoured by editable installs."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any failure to compile leaves the Python readers in charge
            print(f"hubbub: the compiled readers were not built ({exc}); the Python ones will be used", file=sys.stderr)

    def copy_extensions_to_source(self) -> None:
        try:
            super().copy_extensions_to_source()
        except Exception as exc:  # noqa: BLE001 - nothing was built to copy
            print(f"hubbub: no compiled readers to copy ({exc})", file=sys.stderr)


setup(ext_modules=cythonize([Extension(f"crdt.{name}", [f"crdt/{name}.pyx"], optional=True)
                             for name in ("_native", "_native_write")],
                            compiler_directives={"language_level": 3}, quiet=True),
      cmdclass={"build_ext": OptionalBuildExt})
