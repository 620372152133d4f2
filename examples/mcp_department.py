"""MCP tools as a department: atomwork starts a small MCP server and plans with its tools.

python examples/mcp_department.py          run a goal with the toy shop's MCP tools
python examples/mcp_department.py serve    be that MCP server, on stdio (atomwork starts it so)

Any MCP server works the same way: ``StdioServerParameters(command="npx", args=[...])`` for one
you start, or its URL (``"http://127.0.0.1:8000/mcp"``) for one that serves streamable HTTP.
"""

import sys
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

import atomwork
from atomwork.tools.mcp import StdioServerParameters, mcp_department

server = MCPServer("toy-shop", log_level="WARNING")
STOCK = {"chess": (7, 22.0), "go": (2, 35.0), "cube": (40, 6.25)}


class Stock(BaseModel):
    product: str
    units: int
    unit_cost: float


@server.tool()
def stock_levels() -> list[Stock]:
    """Units in stock and unit cost of every product of the toy shop."""
    return [Stock(product=name, units=units, unit_cost=cost) for name, (units, cost) in STOCK.items()]


@server.tool()
def reorder_cost(
    product: Annotated[str, Field(description="product name, e.g. 'chess'")],
    units: Annotated[int, Field(description="units to order", ge=1)],
) -> float:
    """What reordering some units of one product costs."""
    return units * STOCK[product][1]


def main() -> None:
    shop = mcp_department(
        "shop",
        "Stock levels and reorder costs of the toy shop",
        StdioServerParameters(command=sys.executable, args=[__file__, "serve"]),
    )
    with atomwork.Atomwork(departments=[shop]) as aw:  # ending the session ends the MCP server too
        result = aw.run("Analyze the toy shop's stock levels and what reordering 10 units of go would cost")
    print(result.answer)
    for task_id, outcome in result.outcomes.items():  # what each MCP tool returned
        if outcome.result is not None:
            table = outcome.result.table
            print(f"\n{task_id}: {outcome.result.summary}\n{table.to_markdown() if table else ''}")


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        server.run()
    else:
        main()
