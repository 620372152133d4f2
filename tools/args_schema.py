"""Argument models built from a JSON schema, for tools defined outside Python (MCP servers).

atomwork validates, grounds and repairs arguments through a pydantic model; this turns an input
schema into one, keeping names, types, enums, defaults, bounds and descriptions.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from atomwork.errors import ConfigError

__all__ = ["args_model_from_json_schema"]

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": None}
_BOUNDS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minItems": "min_length",
    "maxItems": "max_length",
}
_MAX_DEPTH = 8
"""Nesting beyond this (or a recursive ``$ref``) is taken as any JSON value."""


def args_model_from_json_schema(name: str, schema: Mapping[str, Any]) -> type[BaseModel]:
    """A pydantic model named ``name`` whose fields are the schema's ``properties``.

    Properties whose names are not Python identifiers keep their name as the field's alias, so
    validation and the model's JSON schema use the original names. ConfigError on a schema that
    does not describe an object."""
    if schema.get("type", "object") != "object":
        raise ConfigError(
            f"the input schema of {name!r} must describe an object, got type {schema['type']!r}"
        )
    return _Converter(schema, name).model(name, schema, depth=0)


class _Converter:
    def __init__(self, root: Mapping[str, Any], name: str) -> None:
        self.defs: Mapping[str, Any] = root.get("$defs") or root.get("definitions") or {}
        self.name = name

    def model(self, name: str, schema: Mapping[str, Any], depth: int) -> type[BaseModel]:
        required = set(schema.get("required") or [])
        fields: dict[str, Any] = {}
        for prop, sub in (schema.get("properties") or {}).items():
            annotation = self.annotation(sub, f"{name}_{prop}", depth + 1)
            info: dict[str, Any] = {
                key: sub[key] for key in ("description", "title", "examples") if key in sub
            }
            if prop in required:
                default: Any = ...
            else:
                default = sub.get("default")
                if default is None:
                    annotation = annotation | None if annotation is not Any else Any
            field_name = prop
            if not prop.isidentifier() or keyword.iskeyword(prop) or prop.startswith("_"):
                field_name = _python_name(prop, taken=set(fields))
                info["alias"] = prop
            fields[field_name] = (annotation, Field(default, **info))
        forbid = schema.get("additionalProperties") is False
        config = ConfigDict(
            extra="forbid" if forbid else "ignore", validate_by_name=True, validate_by_alias=True
        )
        doc = schema.get("description")
        model = create_model(_model_name(name), __config__=config, __doc__=doc, **fields)
        return model

    def annotation(self, schema: Mapping[str, Any] | bool, name: str, depth: int) -> Any:
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return Any
        if "$ref" in schema:
            target = self.resolve(schema["$ref"])
            return self.annotation(target, name, depth + 1) if target is not None else Any
        if "const" in schema:
            return Literal[schema["const"]]
        if "enum" in schema:
            values = [v for v in schema["enum"] if isinstance(v, str | int | float | bool)]
            nullable = None in schema["enum"]
            if not values:
                return Any
            enum: Any = Literal[tuple(values)]
            return enum | None if nullable else enum
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                options = [self.annotation(option, name, depth + 1) for option in schema[combinator]]
                return _union(options)
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.annotation(schema["allOf"][0], name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union([self.annotation({**schema, "type": k}, name, depth) for k in kind])
        if kind in _SCALARS:
            return _bounded(_SCALARS[kind], schema) if kind != "null" else None
        if kind == "array":
            items = self.annotation(schema.get("items", {}), f"{name}_item", depth + 1)
            return _bounded(list[items], schema)  # type: ignore[valid-type]
        if kind == "object" or "properties" in schema:
            if schema.get("properties"):
                return self.model(schema.get("title") or name, schema, depth)
            extra = schema.get("additionalProperties")
            value = self.annotation(extra, f"{name}_value", depth + 1) if isinstance(extra, Mapping) else Any
            return dict[str, value]  # type: ignore[valid-type]
        return Any

    def resolve(self, ref: str) -> Mapping[str, Any] | None:
        match = re.fullmatch(r"#/(?:\$defs|definitions)/(.+)", ref)
        if match is None:
            return None  # a remote or root reference: accept any JSON value, the server validates
        found = self.defs.get(match.group(1).replace("~1", "/").replace("~0", "~"))
        return found if isinstance(found, Mapping) else None


def _bounded(annotation: Any, schema: Mapping[str, Any]) -> Any:
    bounds = {target: schema[key] for key, target in _BOUNDS.items() if key in schema}
    return Annotated[annotation, Field(**bounds)] if bounds else annotation


def _union(options: list[Any]) -> Any:
    if any(option is Any for option in options):
        return Any
    unique = list(dict.fromkeys(type(None) if option is None else option for option in options))
    if len(unique) == 1:
        return unique[0]
    return Union[tuple(unique)]  # noqa: UP007 - built at runtime from a list


def _python_name(prop: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", prop).strip("_") or "arg"
    if base[0].isdigit() or keyword.iskeyword(base):
        base = f"arg_{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def _model_name(name: str) -> str:
    return re.sub(r"\W", "_", name) or "Args"
