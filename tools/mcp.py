"""An MCP server's tools as an atomwork department, over stdio or streamable HTTP (the ``mcp`` SDK).

atomwork calls tools synchronously from worker threads, while an MCP client session is async and
must be entered and left by one task. So one background thread runs an event loop whose owner task
holds the session for the department's lifetime; tool calls are submitted to that loop. The server
is started (or connected to) once, not per call, and closed with the department.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, PrivateAttr
from pydantic_core import to_jsonable_python

from atomwork.errors import ConfigError, ToolError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.args_schema import args_model_from_json_schema
from atomwork.tools.base import Tool, table_summary
from atomwork.tools.department import Department

__all__ = [
    "MCPConnection",
    "MCPDepartment",
    "StdioServerParameters",
    "mcp_department",
    "mcp_tools",
    "result_from_mcp",
]

log = logging.getLogger(__name__)

Server = StdioServerParameters | str
"""A command to start (stdio) or the URL of a streamable HTTP endpoint (``http://host:port/mcp``)."""


class MCPConnection:
    """One live MCP client session, usable from any thread.

    Connecting raises a one-line ConfigError when the server cannot be started or reached; tool
    calls raise ToolError. :meth:`close` ends the session (and a stdio server process)."""

    def __init__(self, server: Server, *, timeout: float = 60.0, connect_timeout: float = 30.0) -> None:
        if isinstance(server, str) and not server.startswith(("http://", "https://")):
            raise ConfigError(
                f"MCP server {server!r} must be an http(s) URL or StdioServerParameters(command=...)"
            )
        self.server = server
        self.label = server if isinstance(server, str) else " ".join([server.command, *server.args])
        self.timeout = timeout
        self._client: Client | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._finished = threading.Event()
        """Set when the owner task has left the session (the server process is gone)."""
        self._closed = False
        self._close_lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="atomwork-mcp", daemon=True)
        self._thread.start()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._owner = asyncio.run_coroutine_threadsafe(self._own(ready), self._loop)
        try:
            ready.result(timeout=connect_timeout)
        except concurrent.futures.TimeoutError:
            self.close()
            raise ConfigError(f"MCP server {self.label} did not answer within {connect_timeout:g}s") from None
        except Exception as exc:
            self.close()
            raise ConfigError(f"cannot connect to MCP server {self.label}: {_one_line(exc)}") from None
        # A stdio server is a child process: end it even when nobody closes the session.
        atexit.register(self.close)

    async def _own(self, ready: concurrent.futures.Future[None]) -> None:
        """Enter the session, hand it out, and leave it (in this same task) when asked to stop."""
        self._stop = asyncio.Event()
        self._task = asyncio.current_task()
        try:
            async with Client(self.server, read_timeout_seconds=self.timeout) as client:
                self._client = client
                ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
                return
            raise
        finally:
            self._client = None
            self._finished.set()

    def _run(self, coro: Any, what: str) -> Any:
        """Run ``coro`` on the session's loop and wait for it (a little longer than the MCP timeout)."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=self.timeout + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ToolError(f"{what} on MCP server {self.label} timed out after {self.timeout:g}s") from None
        except Exception as exc:
            raise ToolError(f"{what} on MCP server {self.label} failed: {_one_line(exc)}") from None

    def _session(self) -> Client:
        client = self._client
        if self._closed or client is None:
            raise ToolError(f"the MCP session with {self.label} is closed")
        return client

    def list_tools(self) -> list[MCPTool]:
        """Every tool the server lists (all pages)."""
        client = self._session()

        async def walk() -> list[MCPTool]:
            tools: list[MCPTool] = []
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    return tools

        found: list[MCPTool] = self._run(walk(), "listing tools")
        return found

    def call_tool(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        """The server's result of one call; ToolError when the call itself fails (not for is_error)."""
        client = self._session()
        result: CallToolResult = self._run(client.call_tool(name, arguments), f"calling tool {name!r}")
        return result

    def close(self) -> None:
        """End the session and its loop thread; safe to call more than once."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.close)
        if not self._owner.done():
            # Connected: let the owner leave the session. Still connecting: cancel the attempt.
            # Either way the owner task itself cleans up (ends a stdio server) before we go on.
            stop, task = self._stop, self._task
            if self._client is not None and stop is not None:
                self._loop.call_soon_threadsafe(stop.set)
            elif task is not None:
                self._loop.call_soon_threadsafe(task.cancel)
            else:
                self._owner.cancel()  # not even started
            if not self._finished.wait(timeout=10):
                log.warning("the MCP session with %s did not end within 10s", self.label)
        failure = self._owner.exception() if self._owner.done() and not self._owner.cancelled() else None
        if failure is not None:  # e.g. a server that died during the session could not be left cleanly
            log.warning("closing MCP session with %s: %s", self.label, _one_line(failure))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> MCPConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MCPDepartment(Department):
    """A :class:`Department` whose tools live on an MCP server; close it (or the Atomwork session
    that uses it) to end the server session."""

    _connection: MCPConnection | None = PrivateAttr(default=None)

    @property
    def connection(self) -> MCPConnection:
        if self._connection is None:
            raise ConfigError(f"department {self.name!r} has no MCP connection")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def __enter__(self) -> MCPDepartment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def mcp_department(
    name: str,
    description: str,
    server: Server,
    *,
    instructions: str = "",
    tools: Iterable[str] | None = None,
    prefix: str = "",
    timeout: float = 60.0,
) -> MCPDepartment:
    """A department of the tools an MCP server lists.

    ``server``: ``StdioServerParameters(command=..., args=[...])`` starts the server as a
    subprocess; ``"http://host:port/mcp"`` connects to a streamable HTTP endpoint.
    ``tools``: keep only these tool names (ConfigError if the server lacks one).
    ``prefix``: put before every tool name, when two servers name tools alike.
    ``timeout``: seconds one call may take.

    >>> weather = mcp_department("weather", "Forecasts by city",
    ...                          StdioServerParameters(command="python", args=["weather_server.py"]))
    """
    connection = MCPConnection(server, timeout=timeout)
    try:
        listed = connection.list_tools()
        wanted = list(tools) if tools is not None else None
        if wanted is not None:
            missing = sorted(set(wanted) - {t.name for t in listed})
            if missing:
                raise ConfigError(
                    f"MCP server {connection.label} has no tool {', '.join(map(repr, missing))}; "
                    f"it lists: {', '.join(t.name for t in listed) or 'none'}"
                )
            listed = [t for t in listed if t.name in wanted]
        department = MCPDepartment(
            name, description, mcp_tools(connection, listed, prefix=prefix), instructions=instructions
        )
    except BaseException:
        connection.close()
        raise
    department._connection = connection
    return department


def mcp_tools(connection: MCPConnection, listed: Sequence[MCPTool], *, prefix: str = "") -> list[Tool]:
    """atomwork tools that call ``listed`` tools over ``connection``."""
    return [_tool(connection, spec, prefix) for spec in listed]


def _tool(connection: MCPConnection, spec: MCPTool, prefix: str) -> Tool:
    args_model = args_model_from_json_schema(f"{prefix}{spec.name}_args", spec.input_schema)
    hints = spec.annotations
    return Tool(
        name=f"{prefix}{spec.name}",
        description=(spec.description or (hints.title if hints else None) or spec.title or spec.name).strip(),
        args_model=args_model,
        fn=_caller(connection, spec.name, args_model),
        # Only an explicit "destructive" hint asks for approval: unannotated tools would all need it.
        requires_approval=bool(hints and hints.read_only_hint is not True and hints.destructive_hint is True),
        output_columns=_output_columns(spec.output_schema),
    )


def _caller(connection: MCPConnection, name: str, args_model: type[BaseModel]) -> Callable[..., ToolResult]:
    fields = args_model.model_fields
    required = {key for key, field in fields.items() if field.is_required()}

    def call(**values: Any) -> ToolResult:
        # Back to the server's own argument names; unset optional arguments are left out rather
        # than sent as null, which a schema without "null" would reject.
        arguments = {
            fields[key].alias or key: to_jsonable_python(value, by_alias=True)
            for key, value in values.items()
            if value is not None or key in required
        }
        return result_from_mcp(name, connection.call_tool(name, arguments))

    return call


def result_from_mcp(tool_name: str, result: CallToolResult) -> ToolResult:
    """An MCP call result as a ToolResult: structured rows become a Table, text the summary.

    A result flagged ``is_error`` raises ToolError with the server's first line."""
    text = "\n".join(block.text for block in result.content if isinstance(block, TextContent)).strip()
    if result.is_error:
        raise ToolError(f"MCP tool {tool_name!r} failed: {_first_line(text) or 'no message'}")
    others = sorted({block.type for block in result.content if not isinstance(block, TextContent)})
    omitted = f" ({', '.join(others)} content omitted)" if others else ""
    table = _table(_unwrap(result.structured_content))
    if table is not None:
        return ToolResult(summary=f"{tool_name}: {table_summary(table)}{omitted}", table=table)
    if result.structured_content is not None and not text:
        text = str(_unwrap(result.structured_content))
    return ToolResult(summary=f"{tool_name}: {text or 'no output'}{omitted}")


def _unwrap(value: Any) -> Any:
    # MCP servers wrap a return value that is not an object as {"result": value} (FastMCP/MCPServer).
    if isinstance(value, dict) and list(value) == ["result"]:
        return value["result"]
    return value


def _table(value: Any) -> Table | None:
    """A table from JSON rows (a list of objects), columns (an object of equal-length lists), a
    list of scalars, or one flat object (one row); None for anything else."""
    if isinstance(value, list) and value:
        if all(isinstance(row, dict) for row in value):
            columns = list(dict.fromkeys(key for row in value for key in row))
            return Table(columns=columns, rows=[[row.get(c) for c in columns] for row in value])
        if all(not isinstance(item, dict | list) for item in value):
            return Table(columns=["value"], rows=[[item] for item in value])
        return None
    if isinstance(value, dict) and value:
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == len(value) and len({len(v) for v in lists}) == 1:
            return Table(columns=list(value), rows=[list(row) for row in zip(*lists, strict=True)])
        if not lists and not any(isinstance(v, dict) for v in value.values()):
            return Table(columns=list(value), rows=[list(value.values())])
    return None


def _output_columns(schema: dict[str, Any] | None) -> list[str]:
    """The columns of the rows a tool returns, when its output schema is a list of objects."""
    props = (schema or {}).get("properties") or {}
    if list(props) != ["result"] or props["result"].get("type") != "array":
        return []
    item = props["result"].get("items") or {}
    ref = item.get("$ref", "")
    if ref.startswith("#/$defs/"):
        item = ((schema or {}).get("$defs") or {}).get(ref.removeprefix("#/$defs/"), {})
    columns = item.get("properties")
    return list(columns) if isinstance(columns, dict) else []


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _one_line(exc: BaseException) -> str:
    """The innermost useful message of ``exc`` (task groups wrap the real error in a group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    message = _first_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
