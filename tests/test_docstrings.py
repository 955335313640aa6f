"""Every public function, class and method of the package has its own docstring.

Public: a module whose dotted path has no part starting with ``_``; in it, the names of
``__all__`` (or, without ``__all__``, every function and class defined there whose name
does not start with ``_``), and the methods and properties those classes define without a
leading ``_``. A dataclass's generated ``Name(field, ...)`` text does not count as a
docstring.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import nalr_theory


def public_modules():
    names = ["nalr_theory"] + [info.name for info in pkgutil.walk_packages(nalr_theory.__path__, "nalr_theory.")]
    return [importlib.import_module(name) for name in names
            if not any(part.startswith("_") for part in name.split("."))]


def _own_doc(obj, name: str) -> bool:
    doc = obj.__doc__ if isinstance(obj, type) else inspect.getdoc(obj)
    if not doc or not doc.strip():
        return False
    return not (isinstance(obj, type) and doc.startswith(f"{name}("))  # dataclass default


def public_objects():
    """``{qualified name: object}`` of every public function, class, method and property."""
    found = {}
    for module in public_modules():
        if hasattr(module, "__all__"):
            names = list(module.__all__)
        else:
            names = [name for name, obj in vars(module).items() if not name.startswith("_")
                     and (inspect.isfunction(obj) or inspect.isclass(obj))
                     and getattr(obj, "__module__", None) == module.__name__]
        for name in names:
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants, submodules
            home = f"{obj.__module__ or module.__name__}.{obj.__qualname__}"
            found[home] = obj
            if inspect.isclass(obj) and home.startswith("nalr_theory"):
                for attribute, member in vars(obj).items():
                    if attribute.startswith("_"):
                        continue
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    if inspect.isfunction(member) or isinstance(member, property):
                        found[f"{home}.{attribute}"] = member
    return found


def test_every_public_object_has_a_docstring():
    objects = public_objects()
    missing = sorted(name for name, obj in objects.items()
                     if name.startswith("nalr_theory") and not _own_doc(obj, name.rsplit(".", 1)[-1]))
    assert len(objects) > 300  # the count itself: a scan that finds nothing proves nothing
    assert not missing, f"{len(missing)} of {len(objects)} public objects have no docstring:\n" + "\n".join(missing)
