"""Load less at start-up: a package's names on first use; a package's submodules without its
``__init__``.

``names_on_first_use`` gives ``sim`` and its ``engine`` and ``model`` packages their public names
without importing the modules that define them until a name is used: ``import sim`` is instant,
and the process that draws figures imports ``sim.reporting`` without the model or Mesa.

``iraqsim run`` needs two of Mesa's modules, ``mesa.model`` and ``mesa.agent``. Importing either
first runs ``mesa/__init__.py``, which loads all of Mesa (its spaces, SciPy's spatial package,
networkx, the batch runner): about 0.6 s of the ~1.2 s the command spends importing, for
nothing it uses. ``defer_package_init("mesa")``, called by the command line before anything
imports Mesa, puts the package in ``sys.modules`` without running its ``__init__``: its
submodules import as usual, and the first attribute asked of the package itself
(``mesa.__version__``, ``from mesa import DataCollector``) runs the ``__init__`` then, in the
same module object, so every name is there when asked for.

The library itself never calls it: ``import sim`` leaves Mesa's import as Mesa wrote it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys


def names_on_first_use(package: str, public: dict[str, str]):
    """The ``__getattr__`` and ``__dir__`` of ``package`` whose names ``public`` (name -> the
    module that defines it) are imported when first asked for, then kept in the package."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str):
        if name in public:
            value = getattr(importlib.import_module(public[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*namespace, *public})

    return __getattr__, __dir__


def defer_package_init(name: str) -> None:
    """Import ``name``'s submodules without running ``name/__init__.py`` until an attribute of
    the package is read. Does nothing if the package is already imported or is not a package."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)  # sets __path__, so submodules are found

    def __getattr__(attribute: str):
        """Run the package's ``__init__`` (once), then answer as the package would."""
        vars(package).pop("__getattr__", None)
        try:
            spec.loader.exec_module(package)
        except BaseException:
            sys.modules.pop(name, None)  # as a failed import: the next import starts again
            raise
        return getattr(package, attribute)

    package.__getattr__ = __getattr__
    sys.modules[name] = package


__all__ = ["defer_package_init", "names_on_first_use"]
