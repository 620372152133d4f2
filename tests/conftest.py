"""Shared fixtures: one demo warehouse per test session, built in a temporary ATOMWORK_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from atomwork.tools.departments import build_department_tools
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.reporting import reporting_tools
from atomwork.tools.warehouse import Warehouse


@pytest.fixture(scope="session", autouse=True)
def atomwork_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("atomwork_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATOMWORK_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def warehouse(atomwork_home: Path) -> Iterator[Warehouse]:
    wh = Warehouse.open()  # builds the seeded demo warehouse under atomwork_home
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def warehouse_path(warehouse: Warehouse) -> Path:
    return warehouse.path


@pytest.fixture(scope="session")
def registry(warehouse: Warehouse) -> ToolRegistry:
    return ToolRegistry([*build_department_tools(warehouse), *reporting_tools()])
