"""The demo enterprise, atomwork's default pack: six departments over the seeded demo warehouse,
plus the shared analysis and reporting departments that serve every department (and any warehouse).
"""

from __future__ import annotations

from atomwork.tools.analysis import ANALYSIS_TOOLS
from atomwork.tools.department import Department, ToolLike
from atomwork.tools.enterprise import comparisons, finance, hr, marketing, operations, sales, support
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.reporting import draft_report
from atomwork.tools.warehouse import Warehouse

__all__ = ["enterprise_departments", "enterprise_registry"]


def enterprise_departments(*, analysis_tools: tuple[ToolLike, ...] = ()) -> list[Department]:
    """The pack's departments; ``analysis_tools`` join the shared analysis department (the SDK adds
    the SQL analyst there)."""
    return [
        Department("sales", "Revenue, orders and customers by region, month and customer", sales.TOOLS),
        Department("finance", "Expenses by category and month, and actuals against budget", finance.TOOLS),
        Department("hr", "Headcount, hires, terminations and attrition", hr.TOOLS),
        Department("marketing", "Campaign spend, leads, conversions and their cost", marketing.TOOLS),
        Department("support", "Support tickets, resolution times and satisfaction", support.TOOLS),
        Department("operations", "Late shipments and supplier lead times", operations.TOOLS),
        Department(
            "analysis",
            "Statistics over earlier results, period comparisons and read-only SQL on the warehouse",
            [*ANALYSIS_TOOLS, *comparisons.TOOLS, *analysis_tools],
            shared=True,
        ),
        Department(
            "reporting",
            "Writes the report for a person from earlier results",
            [draft_report],
            shared=True,
            writes_report=True,
        ),
    ]


def enterprise_registry(warehouse: Warehouse) -> ToolRegistry:
    """The pack's tools that ``warehouse`` supports, bound to it (no SQL analyst: that needs agents)."""
    return ToolRegistry(departments=enterprise_departments()).bound_to(warehouse)
