"""A small MCP server the MCP tests start for real: stock levels of a toy shop.

python tests/mcp_server.py              serve over stdio
python tests/mcp_server.py --port N     serve streamable HTTP on http://127.0.0.1:N/mcp
"""

from __future__ import annotations

import argparse
import os
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

STOCK = {
    "puzzles": {"jigsaw-500": (12, 9.5), "jigsaw-1000": (3, 14.0), "cube": (40, 6.25)},
    "games": {"chess": (7, 22.0), "go": (2, 35.0)},
}

server = MCPServer("toy-shop", log_level="WARNING")


class StockRow(BaseModel):
    product: str
    units: int
    unit_cost: float


@server.tool()
def stock_levels(
    category: Annotated[Literal["puzzles", "games"], Field(description="product category")],
) -> list[StockRow]:
    """Units in stock and unit cost of every product of one category."""
    return [StockRow(product=p, units=u, unit_cost=c) for p, (u, c) in STOCK[category].items()]


@server.tool()
def reorder_cost(
    product: Annotated[str, Field(description="product id, e.g. 'chess'")],
    units: Annotated[int, Field(description="units to order", ge=1)] = 10,
) -> float:
    """What reordering some units of one product costs."""
    for products in STOCK.values():
        if product in products:
            return units * products[product][1]
    raise ToolError(f"unknown product {product!r}\nknown products are listed by stock_levels")


@server.tool()
def shop_notice() -> str:
    """The notice on the shop door."""
    return "Open 9 to 5, closed on Sundays."


@server.tool()
def server_pid() -> int:
    """The id of this server's process (tests check that one process serves a whole session)."""
    return os.getpid()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=None)
    port = parser.parse_args().port
    if port is None:
        server.run()
    else:
        server.run("streamable-http", host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
