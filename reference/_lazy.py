"""Lazy public names for a package (PEP 562), the way ``lazy_loader.attach`` does it.

A package's ``__init__`` names its public objects and the submodule defining each; the
submodule is imported on first use. So importing a package (the pytest plugin imports
``weight_init`` in every pytest run) costs nothing until a name is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``, whose public ``names`` map each
    name to the module that defines it.

    Examples
    --------
    >>> getattr_, dir_, all_ = attach("weight_init", {"forward_prop": "weight_init.experiment"})
    >>> all_
    ['forward_prop']
    >>> getattr_("forward_prop").__name__
    'forward_prop'
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        package_module = importlib.import_module(package)
        setattr(package_module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(importlib.import_module(package))) | set(names))

    return __getattr__, __dir__, sorted(names)
