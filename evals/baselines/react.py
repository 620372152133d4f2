"""Baseline (a): LangGraph's prebuilt ReAct agent over atomwork's department tools, driven by the
same local model through a LangChain adapter that speaks Qwen2.5's native tool-call format.
"""

from __future__ import annotations

import json
import re
import types
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import InvalidToolCall, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict

from atomwork.evals.baselines.text_to_sql import render_table
from atomwork.evals.bench import SystemAnswer, WarehousePool
from atomwork.evals.cases import DatasetName, EvalCase
from atomwork.models.base import ChatModel
from atomwork.models.purpose import Purpose
from atomwork.tools.base import Table, Tool
from atomwork.tools.enterprise import enterprise_registry

__all__ = [
    "AtomworkChatModel",
    "ReactSystem",
    "format_tools_prompt",
    "parse_tool_calls",
    "to_langchain_tools",
    "to_qwen_messages",
]

MAX_TOKENS = 400
MAX_STEPS = 8
"""LangGraph recursion limit: every model turn and every tool turn is a step, so 8 allows ~4 tool rounds."""
TOOL_ROWS = 30
"""Rows of a tool's table shown to the model; more would crowd a small model's context."""
OUT_OF_STEPS = "Sorry, need more steps to process this request."
"""What create_react_agent answers instead of a tool call when the step budget is nearly spent."""

# Qwen2.5's own chat template wording for tools, so the model sees the format it was trained on.
_TOOLS_HEADER = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
_TOOLS_FOOTER = (
    "</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)
_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_CALL_START = re.compile(r'\{\s*"name"\s*:')
_FENCE = re.compile(r"```(?:json)?")
_DECODER = json.JSONDecoder()

REACT_PROMPT = """You are a data analyst. Answer the manager's question using the tools; they query \
the company data warehouse ({data_range}).
Call one tool at a time. When the tool results answer the question, reply with the answer in plain \
words, stating every figure that was asked for, and call no tool."""


# --------------------------------------------------------------------------- Qwen tool-call format


def format_tools_prompt(tools: Sequence[dict[str, Any]]) -> str:
    lines = [json.dumps(spec, ensure_ascii=False) for spec in tools]
    return "\n".join([_TOOLS_HEADER, *lines, _TOOLS_FOOTER])


def _tool_call_text(call: ToolCall) -> str:
    body = json.dumps({"name": call["name"], "arguments": call["args"]}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def to_qwen_messages(messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]]) -> list[BaseMessage]:
    """Plain system/user/assistant messages in Qwen2.5's tool format.

    Tool specs join the system prompt, an assistant's tool calls become ``<tool_call>`` blocks and tool
    results become a user turn of ``<tool_response>`` blocks, as Qwen's chat template renders them; so
    any backend (llama.cpp, an OpenAI-compatible server) can take the conversation as plain text."""
    out: list[BaseMessage] = []
    rest = list(messages)
    system = _DEFAULT_SYSTEM
    if rest and isinstance(rest[0], SystemMessage):
        system = str(rest.pop(0).content)
    if tools:
        system = f"{system}\n\n{format_tools_prompt(tools)}"
    out.append(SystemMessage(system))
    responses: list[str] = []
    for message in rest:
        if isinstance(message, ToolMessage):
            responses.append(f"<tool_response>\n{message.content}\n</tool_response>")
            continue
        if responses:
            out.append(HumanMessage("\n".join(responses)))
            responses = []
        if isinstance(message, AIMessage):
            parts = [str(message.content).strip()] if str(message.content).strip() else []
            parts.extend(_tool_call_text(call) for call in message.tool_calls)
            out.append(AIMessage("\n".join(parts)))
        elif isinstance(message, SystemMessage):
            out.append(SystemMessage(str(message.content)))
        else:
            out.append(HumanMessage(str(message.content)))
    if responses:
        out.append(HumanMessage("\n".join(responses)))
    return out


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


def _as_call(body: Any, names: set[str]) -> tuple[str, dict[str, Any]] | None:
    """(name, arguments) from a decoded tool-call object, or None when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return None
    args = body.get("arguments", body.get("parameters", {}))
    if isinstance(args, str):  # some models double-encode the arguments
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if args is None:
        args = {}
    if not isinstance(args, dict) or (names and body["name"] not in names):
        return None
    return body["name"], args


def _invalid(raw: str, error: str) -> InvalidToolCall:
    return InvalidToolCall(name=None, args=raw[:500], id=_call_id(), error=error, type="invalid_tool_call")


def _decode_calls(body: str, known: set[str]) -> tuple[list[ToolCall], list[InvalidToolCall], int]:
    """Consecutive JSON objects from the start of ``body`` as calls (or invalid ones: an unknown tool,
    JSON cut off by the token limit); also the offset where they end."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    pos = 0
    while True:
        while pos < len(body) and body[pos].isspace():
            pos += 1
        if pos >= len(body) or body[pos] != "{":
            return calls, invalid, pos
        try:
            value, end = _DECODER.raw_decode(body, pos)
        except json.JSONDecodeError:
            invalid.append(_invalid(body[pos:], "malformed or cut-off JSON"))
            return calls, invalid, len(body)
        parsed = _as_call(value, known)
        if parsed is None:
            invalid.append(_invalid(body[pos:end], "not a call of a known tool"))
        else:
            calls.append(ToolCall(name=parsed[0], args=parsed[1], id=_call_id(), type="tool_call"))
        pos = end


def parse_tool_calls(text: str, names: Sequence[str] = ()) -> AIMessage:
    """An AIMessage from a Qwen reply: ``<tool_call>`` blocks become ``tool_calls`` (malformed ones
    ``invalid_tool_calls``), the remaining text the content.

    Without tags, ``{"name": ..., "arguments": ...}`` objects naming bound tools also count as calls
    (small models often drop the tags, or list several calls one per line); the text before them is
    the content, anything after them (usually made-up results) is dropped."""
    known = set(names)
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for match in _TOOL_CALL.finditer(text):
        body = _FENCE.sub("", match.group(1)).strip()
        found, bad, end = _decode_calls(body, known)
        calls += found
        invalid += bad
        if end < len(body) or not (found or bad):
            invalid.append(_invalid(body[end:], "not a JSON tool call"))
    content = _TOOL_CALL.sub("", text).strip()
    if not calls and not invalid and known:
        plain = _FENCE.sub("", content)
        start = _CALL_START.search(plain)
        if start is not None:
            calls, invalid, _ = _decode_calls(plain[start.start() :], known)
            content = plain[: start.start()].strip()
    # A small model often repeats one call verbatim; running it twice only lengthens the context.
    unique: dict[str, ToolCall] = {}
    for call in calls:
        unique.setdefault(json.dumps([call["name"], call["args"]], sort_keys=True), call)
    return AIMessage(content=content, tool_calls=list(unique.values()), invalid_tool_calls=invalid)


# --------------------------------------------------------------------------- the LangChain adapter


class AtomworkChatModel(BaseChatModel):
    """A LangChain chat model around atomwork's :class:`ChatModel`.

    ``bind_tools`` binds OpenAI-style specs; each turn renders them (and the conversation) in Qwen2.5's
    native format, calls ``backend.complete`` once, and parses the reply's tool calls."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    backend: ChatModel
    max_tokens: int = MAX_TOKENS
    purpose: Purpose = Purpose.REACT

    @property
    def _llm_type(self) -> str:
        return "atomwork"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # tool_choice is ignored: a plain-text model cannot be forced to call a tool.
        specs = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=specs, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools: list[dict[str, Any]] = list(kwargs.get("tools") or [])
        prompt = to_qwen_messages(messages, [spec.get("function", spec) for spec in tools])
        # Stop before a made-up tool result: small models sometimes go on to "answer" their own call.
        stops = [*(stop or []), "<tool_response>"] if tools else stop
        text = self.backend.complete(
            prompt, max_tokens=self.max_tokens, temperature=0.0, purpose=self.purpose, stop=stops
        )
        names = [str(spec.get("function", spec).get("name")) for spec in tools]
        message = parse_tool_calls(text, names) if tools else AIMessage(content=text.strip())
        return ChatResult(generations=[ChatGeneration(message=message)])


# --------------------------------------------------------------------------- tools and the system


def _mentions_table(annotation: Any) -> bool:
    if annotation is Table:
        return True
    if get_origin(annotation) in (Union, types.UnionType) or get_args(annotation):
        return any(_mentions_table(arg) for arg in get_args(annotation))
    return False


def takes_table(tool: Tool) -> bool:
    return any(_mentions_table(field.annotation) for field in tool.args_model.model_fields.values())


def tool_text(summary: str, table: Table | None) -> str:
    if table is None or not table.columns:
        return summary
    more = f"\n({len(table.rows) - TOOL_ROWS} more rows)" if len(table.rows) > TOOL_ROWS else ""
    return f"{summary}\n{render_table(table, TOOL_ROWS)}{more}"


def to_langchain_tools(tools: Sequence[Tool]) -> list[BaseTool]:
    """LangChain tools over atomwork tools, with each tool's own args_model as the schema.

    Tools taking a ``Table`` (detect_anomalies) are left out: a small model cannot type a table into
    JSON, and there is no task-id plumbing here as in atomwork's planner. Tool errors go back to the
    model as text (as ToolNode would do) so it can correct itself."""

    def runner(tool: Tool) -> Callable[..., str]:
        def run(**kwargs: Any) -> str:
            try:
                result = tool.invoke(kwargs)
            except Exception as exc:
                return f"Error: {exc}"
            return tool_text(result.summary, result.table)

        return run

    out: list[BaseTool] = []
    for tool in tools:
        if takes_table(tool):
            continue
        args_schema: type[BaseModel] = tool.args_model
        out.append(
            StructuredTool.from_function(
                func=runner(tool), name=tool.name, description=tool.description, args_schema=args_schema
            )
        )
    return out


class ReactSystem:
    """``create_react_agent`` on the shared model over one dataset's department tools.

    ``completed`` means the agent ended on a final text answer: not on the step limit, not on a
    malformed tool call, not on an empty reply."""

    name = "react"

    def __init__(
        self,
        model: ChatModel,
        path_for: Callable[[DatasetName], Path] | None = None,
        *,
        max_steps: int = MAX_STEPS,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.model = model
        self.max_steps = max_steps
        self.chat = AtomworkChatModel(backend=model, max_tokens=max_tokens)
        self._pool = WarehousePool(path_for)
        self._agents: dict[DatasetName, Any] = {}

    def _agent(self, dataset: DatasetName) -> Any:
        if dataset not in self._agents:
            from langgraph.prebuilt import create_react_agent

            warehouse = self._pool.get(dataset)
            span = warehouse.date_range()
            data_range = f"data from {span[0]} to {span[1]}" if span else "dates as present in the data"
            registry = enterprise_registry(warehouse)
            # The department and analysis tools; the report writer needs a run's model and results.
            tools = to_langchain_tools([t for t in registry.tools() if not registry.writes_report(t.name)])
            with warnings.catch_warnings():
                # langgraph 1.x points to langchain.agents.create_agent; the prebuilt agent is the baseline.
                warnings.simplefilter("ignore")
                self._agents[dataset] = create_react_agent(
                    self.chat, tools, prompt=REACT_PROMPT.format(data_range=data_range)
                )
        return self._agents[dataset]

    def answer(self, case: EvalCase) -> SystemAnswer:
        from langgraph.errors import GraphRecursionError

        agent = self._agent(case.dataset)
        messages: list[BaseMessage] = []
        stop = ""
        try:
            for state in agent.stream(
                {"messages": [HumanMessage(case.question)]},
                config={"recursion_limit": self.max_steps},
                stream_mode="values",
            ):
                messages = list(state["messages"])
        except GraphRecursionError:
            stop = "step_limit"
        last = messages[-1] if messages else None
        text = str(last.content).strip() if isinstance(last, AIMessage) else ""
        if not stop:
            if not isinstance(last, AIMessage) or last.tool_calls:
                stop = "step_limit"
            elif text == OUT_OF_STEPS:
                stop, text = "step_limit", ""
            elif last.invalid_tool_calls:
                stop = "bad_tool_call"
            elif not text:
                stop = "empty_answer"
            else:
                stop = "completed"
        # No tables: a ReAct user sees only the final message, the tool results stay inside the loop.
        return SystemAnswer(answer=text, completed=stop == "completed", stop_reason=stop)

    def close(self) -> None:
        self._agents.clear()
        self._pool.close()
