"""The optional C loop of the converters (engine/read/_cells.c; see engine/read/cells.py).

Everything else about the package is in pyproject.toml. ``optional=True``: without a C
compiler the build goes on and dealgate runs its generated Python alone.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("engine.read._cells", ["engine/read/_cells.c"], optional=True)])
