"""Shared fixtures: one demo warehouse per test session, built in a temporary ATOMWORK_HOME."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from atomwork.models.guard import BLOCK_ENV
from atomwork.tools.enterprise import enterprise_registry
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.schema import SchemaCatalog
from atomwork.tools.warehouse import Warehouse


@pytest.fixture(scope="session", autouse=True)
def atomwork_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("atomwork_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATOMWORK_HOME", str(home))
        yield home


@pytest.fixture(autouse=True)
def _block_real_model_requests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test loads or calls a real model by accident (the flag reaches CLI subprocesses too);
    tests marked real_model, vllm or model_requests talk to a model backend on purpose."""
    if not any(request.node.get_closest_marker(m) for m in ("real_model", "vllm", "model_requests")):
        monkeypatch.setenv(BLOCK_ENV, "1")


@pytest.fixture(scope="session")
def warehouse(atomwork_home: Path) -> Iterator[Warehouse]:
    wh = Warehouse.open()  # builds the seeded demo warehouse under atomwork_home
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def catalog(warehouse: Warehouse) -> SchemaCatalog:
    """The demo warehouse's schema as the SQL analyst reads it."""
    return SchemaCatalog.read(warehouse)


@pytest.fixture(scope="session")
def rows(warehouse: Warehouse) -> Callable[[str], list[list[object]]]:
    """Runs a SELECT on the demo warehouse: its rows."""
    return lambda sql: warehouse.run_query(warehouse.validate(sql), 50).table.rows


@pytest.fixture(scope="session")
def warehouse_path(warehouse: Warehouse) -> Path:
    return warehouse.path


@pytest.fixture(scope="session")
def registry(warehouse: Warehouse) -> ToolRegistry:
    return enterprise_registry(warehouse)


@pytest.fixture(scope="session")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, SchemaCatalog]]:
    """The seeded CRM warehouse (SQLite) and its schema."""
    from atomwork.evals.datasets import build_crm

    with Warehouse.open(build_crm(tmp_path_factory.mktemp("crm") / "crm.sqlite")) as opened:
        yield opened, SchemaCatalog.read(opened)
