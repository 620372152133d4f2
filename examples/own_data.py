"""Your own data: two tools and a department over a SQLite file this script creates.

python examples/own_data.py      (the model: $ATOMWORK_MODEL, default the embedded one)
"""

import sqlite3
from typing import Annotated, Literal

from pydantic import Field

import atomwork
from atomwork.tools import Department, RunContext, Table, tool

Bread = Annotated[Literal["sourdough", "rye", "baguette"], Field(description="a bread")]
Month = Annotated[Literal["2024-01", "2024-02", "2024-03"], Field(description="a month, YYYY-MM")]


@tool
def bread_revenue(ctx: RunContext, bread: Bread, month: Month) -> Table:
    """Revenue (loaves sold times price) of one bread in one month."""
    sql = "SELECT round(sum(loaves * price), 2) AS revenue FROM sales WHERE bread = ? AND day LIKE ?"
    return ctx.warehouse.fetch(sql, [bread, f"{month}-%"])


@tool
def loaves_by_bread(ctx: RunContext, month: Month) -> Table:
    """Loaves sold per bread in one month, best seller first."""
    sql = "SELECT bread, sum(loaves) AS loaves FROM sales WHERE day LIKE ? GROUP BY bread ORDER BY 2 DESC"
    return ctx.warehouse.fetch(sql, [f"{month}-%"])


with sqlite3.connect("bakery.sqlite") as db:  # the bakery's own data: a quarter of daily sales
    db.execute("DROP TABLE IF EXISTS sales")
    db.execute("CREATE TABLE sales (day TEXT, bread TEXT, loaves INTEGER, price REAL)")
    prices = {"sourdough": 6.5, "rye": 5.0, "baguette": 3.2}
    days = [(m, d) for m in (1, 2, 3) for d in range(1, 29)]
    rows = [
        (f"2024-{m:02}-{d:02}", b, (d * len(b) + m) % 17 + 4, p) for m, d in days for b, p in prices.items()
    ]
    db.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", rows)

bakery = Department(
    "bakery", "Bread sales of the bakery: loaves and revenue", [bread_revenue, loaves_by_bread]
)
with atomwork.Atomwork(warehouse="bakery.sqlite", departments=[bakery]) as aw:
    print(aw.run("Analyze the bakery's sourdough revenue in March 2024").answer)
