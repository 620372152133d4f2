"""Business definitions for SQL writers: what "revenue" or "late" means in a given schema.

A definition applies only when the tables and columns it uses exist, so the same glossary
serves the demo warehouse, a plain TPC-H file and a user's database. Users add their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, Field

from atomwork.tools.schema import SchemaCatalog


class Definition(BaseModel):
    """One business term and how to compute it.

    With ``words`` and ``uses`` it is also enforced: a question that says one of ``words`` (and
    none of ``unless``) must be answered by SQL that references every column in ``uses``."""

    term: str
    meaning: str
    needs: list[str] = Field(default_factory=list, description="``table.column`` names it uses")
    words: list[str] = Field(default_factory=list, description="question words that name this measure")
    uses: list[str] = Field(default_factory=list, description="columns the SQL must then reference")
    unless: list[str] = Field(default_factory=list, description="words that mean another measure")
    aggregate: str | None = Field(default=None, description="the measure as one SQL aggregate expression")
    aliases: list[str] = Field(
        default_factory=list, description="column names a query may write instead of computing the measure"
    )
    dated: bool = Field(
        default=False,
        description="the measure counts events in a period: ``uses`` binds only when the question names one",
    )


class Glossary(BaseModel):
    definitions: list[Definition] = Field(default_factory=list)
    values: dict[str, list[str]] = Field(
        default_factory=dict,
        description="data values spelled like a measure's word ('Sales' of employees.department): "
        "value -> the ``table.column`` names holding it",
    )

    def for_schema(self, catalog: SchemaCatalog) -> Glossary:
        """Only the definitions whose columns exist in ``catalog``, with the schema's values that
        are spelled like one of their words."""

        def present(ref: str) -> bool:
            table, _, column = ref.partition(".")
            info = catalog.table(table)
            return info is not None and (not column or info.column(column) is not None)

        kept = [d for d in self.definitions if all(present(r) for r in d.needs)]
        words = {w for d in kept for w in d.words}
        values: dict[str, list[str]] = {}
        for column, listed in catalog.categorical().items():
            for value in listed:
                if value.lower() in words:
                    values.setdefault(value, []).append(column)
        return Glossary(definitions=kept, values=values)

    def extended(self, extra: Iterable[Definition]) -> Glossary:
        return Glossary(definitions=[*self.definitions, *extra], values=self.values)

    def measure_aliased(self, name: str) -> Definition | None:
        """The measure a query may write as a column named ``name`` ("revenue") instead of computing it."""
        return next((d for d in self.definitions if d.aggregate and name.lower() in d.aliases), None)

    def measures_named(self, question: str) -> list[Definition]:
        """Enforced definitions whose words the question uses (and none of their exceptions).
        A word the question writes as a data value ("the Sales employees", with their table or
        column named) is that value, not the measure."""
        text = " " + re.sub(r"[^a-z0-9]+", " ", self.without_values(question).lower()) + " "
        return [
            d
            for d in self.definitions
            if d.uses
            and any(f" {w} " in text for w in d.words)
            and not any(f" {w} " in text for w in d.unless)
        ]

    def look_alikes(
        self, question: str, catalog: SchemaCatalog, *, stems: bool = False
    ) -> list[tuple[str, Definition]]:
        """(``table.column``, measure) for each column named like a measure the question asks for
        that is not that measure: ``budgets.revenue_budget`` when it says "revenue". With ``stems``
        also by the word's stem (``budgets.expense_budget`` for "expenses"): a query is checked by
        those, but a prompt names only the exact word's, since each named column draws a small
        model toward its table."""
        out = []
        for definition in self.measures_named(question):
            uses = {u.lower() for u in definition.uses}
            # Only the words the question says that name the measure itself ("expense", not the verb
            # "spend"): a look-alike names another table, and that draws a small model to join it.
            term = definition.term.lower()
            said = [
                w.rstrip("s") if stems else w
                for w in definition.words
                if re.search(rf"\b{re.escape(w)}", question, re.I) and w.rstrip("s") in term
            ]
            for table in catalog.tables:
                for col in table.columns:
                    name = col.name.lower()
                    if name not in uses and any(w.replace(" ", "_") in name for w in said):
                        out.append((f"{table.name}.{col.name}", definition))
        return out

    def without_values(self, question: str) -> str:
        """``question`` less the data values it writes as the data spells them, with their table
        or column named ("the Sales employees"): those words name rows, not a measure."""
        for value, columns in self.values.items():
            if _names_value(question, value, columns):
                question = re.sub(rf"\b{re.escape(value)}\b", " ", question)
        return question

    def text(self) -> str:
        return "\n".join(f"- {d.term}: {d.meaning}" for d in self.definitions) or "- (none)"


def _names_value(question: str, value: str, columns: list[str]) -> bool:
    """Whether ``question`` writes ``value`` as the data spells it, and names one of the tables or
    columns that hold it ("Sales employees", "the Sales department")."""
    if not re.search(rf"\b{re.escape(value)}\b", question):
        return False
    return any(names_column(question, column) for column in columns)


def names_column(question: str, column: str) -> bool:
    """Whether ``question`` names the ``table.column`` or its table by a word of either
    ("department" for employees.department, "tickets" for support_tickets.priority)."""
    words = {w[:5] for w in re.findall(r"[a-z]{4,}", question.lower())}
    table, _, name = column.lower().partition(".")
    parts = [*re.split(r"[^a-z]+", re.sub(r"^[a-z]{1,2}_", "", name)), table, *table.split("_")]
    return bool(words & {p[:5] for p in parts if len(p) >= 4})


def _d(
    term: str,
    meaning: str,
    *needs: str,
    words: tuple[str, ...] = (),
    uses: tuple[str, ...] = (),
    unless: tuple[str, ...] = (),
    aggregate: str | None = None,
    aliases: tuple[str, ...] = (),
    dated: bool = False,
) -> Definition:
    return Definition(
        term=term,
        meaning=meaning,
        needs=list(needs),
        words=list(words),
        uses=list(uses),
        unless=list(unless),
        aggregate=aggregate,
        aliases=list(aliases),
        dated=dated,
    )


# Conventions of the TPC-H benchmark (its query set defines revenue this way) and of the
# demo warehouse's department tables.
STANDARD = Glossary(
    definitions=[
        _d(
            "revenue (also net revenue, sales)",
            "sum(l_extendedprice * (1 - l_discount)) over lineitem; gross revenue is sum(l_extendedprice)",
            "lineitem.l_extendedprice",
            "lineitem.l_discount",
            words=("revenue", "revenues", "sales"),
            uses=("l_extendedprice",),
            unless=("budget", "budgeted", "target", "forecast", "plan", "planned"),
            aggregate="sum(l_extendedprice * (1 - l_discount))",
            aliases=("revenue", "net_revenue", "total_revenue", "sales", "total_sales"),
        ),
        _d(
            "a period for orders or revenue",
            "means the order date o_orderdate (lineitem JOIN orders ON l_orderkey = o_orderkey), "
            "unless the question says shipped (l_shipdate), received (l_receiptdate) or committed",
            "orders.o_orderdate",
        ),
        _d(
            "order value, order amount",
            "o_totalprice of the orders table; average order value is avg(o_totalprice)",
            "orders.o_totalprice",
            words=("order value", "order values", "total price", "order amount"),
            uses=("o_totalprice",),
        ),
        _d(
            "number of orders",
            "count(*) over orders (count(DISTINCT l_orderkey) when starting from lineitem)",
            "orders.o_orderkey",
            aggregate="count(DISTINCT o_orderkey)",
            aliases=("order_count", "num_orders", "number_of_orders", "total_orders", "orders_count"),
        ),
        _d(
            "line items",
            "rows of lineitem, counted with count(*); l_quantity is the units ordered, only for a quantity",
            "lineitem.l_quantity",
        ),
        _d(
            "late shipment, late line item",
            "l_receiptdate > l_commitdate; a period for them means the ship date l_shipdate, unless the "
            "question says received (l_receiptdate)",
            # The ship date first: it dates the period (see sql_hints.date_column).
            "lineitem.l_shipdate",
            "lineitem.l_receiptdate",
            "lineitem.l_commitdate",
            words=("late", "on time", "on-time", "delayed", "after the committed date"),
            uses=("l_receiptdate", "l_commitdate"),
            unless=("ticket", "tickets"),
        ),
        _d(
            "returned items",
            "l_returnflag = 'R'",
            "lineitem.l_returnflag",
            words=("returned",),
            uses=("l_returnflag",),
            unless=("ticket", "tickets"),
        ),
        _d(
            "region or nation of a customer (and of its orders and revenue)",
            "orders JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey "
            "JOIN region ON n_regionkey = r_regionkey",
            "customer.c_nationkey",
            "nation.n_regionkey",
        ),
        _d(
            "region or nation of a supplier",
            "supplier JOIN nation ON s_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey",
            "supplier.s_nationkey",
            "nation.n_regionkey",
        ),
        _d("market segment", "c_mktsegment of customer", "customer.c_mktsegment"),
        _d(
            "supply cost, profit",
            "profit = sum(l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity), joining "
            "partsupp on ps_partkey = l_partkey AND ps_suppkey = l_suppkey",
            "partsupp.ps_supplycost",
        ),
        _d(
            "employees on staff at a date D (headcount)",
            "hire_date <= D AND (termination_date IS NULL OR termination_date > D)",
            "employees.hire_date",
            "employees.termination_date",
        ),
        _d(
            "current employees (still employed, on staff today)",
            "termination_date IS NULL: not terminated",
            "employees.termination_date",
            words=(
                "currently employed",
                "still employed",
                "current employees",
                "current staff",
                "still on staff",
                "active employees",
                "still work",
                "still working",
                "currently work",
                "currently working",
                "employed today",
                "not terminated",
                "not left",
            ),
            uses=("termination_date",),
        ),
        _d(
            "departures (terminations, leavers, employees lost) in a period",
            "count(*) FROM employees WHERE termination_date is in the period",
            "employees.termination_date",
            words=("departures", "leavers", "terminations", "departed"),
            uses=("termination_date",),
            dated=True,
        ),
        _d(
            "hires (new hires) in a period",
            "count(*) FROM employees WHERE hire_date is in the period",
            "employees.hire_date",
            words=("hires", "hired", "hiring"),
            uses=("hire_date",),
            dated=True,
        ),
        _d(
            "cost per lead, cost per conversion, conversion rate",
            "sum(spend) / sum(leads); sum(spend) / sum(conversions); sum(conversions) / sum(leads); "
            "a campaign belongs to the period of its start_date",
            "campaigns.spend",
            "campaigns.conversions",
            words=("cost per conversion",),
            uses=("spend", "conversions"),
        ),
        _d(
            "resolution time of a ticket",
            "hours from opened_at to closed_at: epoch(closed_at - opened_at) / 3600; "
            "open tickets have closed_at IS NULL; a ticket belongs to the period of opened_at",
            "support_tickets.opened_at",
            "support_tickets.closed_at",
            words=("resolution time", "resolve", "resolution hours", "to resolve"),
            uses=("opened_at", "closed_at"),
        ),
        _d(
            "pay of an employee (earnings)",
            "employees.salary, the yearly salary of each employee",
            "employees.salary",
            words=("earn", "earns", "earned", "earning", "earnings", "paid"),
            uses=("salary",),
            unless=("commission", "quota"),
        ),
        # Two definitions, not one: a budget's text beside "Travel expenses" draws a small model
        # into joining budgets.
        _d(
            "budget (revenue budget, expense budget)",
            "budgets hold revenue_budget and expense_budget per region and month (the month's first day)",
            "budgets.revenue_budget",
            "budgets.expense_budget",
        ),
        _d(
            "expenses",
            "expenses.amount per month (month is the first day of the month)",
            "expenses.amount",
            words=("expenses", "expense", "spending", "costs", "spend", "spent"),
            uses=("amount",),
            unless=("budget", "budgeted", "marketing", "campaign", "campaigns", "supply"),
        ),
    ]
)
