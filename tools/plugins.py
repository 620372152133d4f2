"""Department packs installed as plug-ins, through the ``atomwork.departments`` entry-point group.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."atomwork.departments"]
    weather = "weather_pack:department"

The entry point names a :class:`Department`, or a callable returning one or several. A plug-in
that cannot be loaded is a one-line ConfigError naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from atomwork.errors import AtomworkError, ConfigError
from atomwork.tools.department import Department

__all__ = ["ENTRY_POINT_GROUP", "load_plugin", "plugin_departments"]

ENTRY_POINT_GROUP = "atomwork.departments"


def plugin_departments(group: str = ENTRY_POINT_GROUP) -> list[Department]:
    """Every department the installed plug-ins provide, in entry-point name order."""
    found = sorted(entry_points(group=group), key=lambda ep: ep.name)
    return [department for ep in found for department in load_plugin(ep)]


def load_plugin(ep: EntryPoint) -> list[Department]:
    where = f"plug-in {ep.name!r} ({ep.value})"
    try:
        obj = ep.load()
        if callable(obj) and not isinstance(obj, Department):
            obj = obj()
    except AtomworkError as exc:
        raise ConfigError(f"{where} failed: {exc}") from exc
    except Exception as exc:  # whatever a broken package raises on import or when called
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ConfigError(f"{where} failed to load: {type(exc).__name__}: {detail}".rstrip(": ")) from exc
    items: Iterable[object] = [obj] if isinstance(obj, Department) else obj if _iterable(obj) else [obj]
    departments = list(items)
    wrong = [type(d).__name__ for d in departments if not isinstance(d, Department)]
    if wrong or not departments:
        got = ", ".join(wrong) or "nothing"
        raise ConfigError(f"{where} must give a Department or a callable returning Departments, got {got}")
    return [d for d in departments if isinstance(d, Department)]


def _iterable(obj: object) -> bool:
    return isinstance(obj, list | tuple | set | frozenset) or (
        hasattr(obj, "__iter__") and not isinstance(obj, str | bytes | dict)
    )
