"""Builds Hubbub's compiled modules: crdt/_native.pyx and crdt/_native_write.pyx (the fast paths of the entry and
update readers and of the sync frame writer).

Everything else is in pyproject.toml. Both are optional: without a C compiler the install goes
on and the Python readers, which are the reference, do all the work (crdt/native.py).
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(ext_modules=cythonize([Extension(f"crdt.{name}", [f"crdt/{name}.pyx"], optional=True)
                             for name in ("_native", "_native_write")],
                            compiler_directives={"language_level": 3}, quiet=True))
