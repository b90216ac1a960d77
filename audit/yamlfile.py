"""Read user YAML files into validated typed objects, with errors that name file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from audit.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `location` (a pydantic error path), or its parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in location:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) \
                and key < len(node.value):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node, line = match, match.start_mark.line + 1
    return line


def load_yaml_mapping(path: Path, what: str) -> tuple[dict[str, Any], yaml.Node | None]:
    """Parse `path` as a YAML mapping; return the data and its node tree (for line numbers)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}",
                          fix="check the path and its permissions.") from exc
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{what} {path} is not valid YAML{where}: {problem}",
                          fix="correct the YAML syntax at that line.") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must be a YAML mapping (key: value), "
                          f"not a {type(data).__name__}",
                          fix="see the example in the README.")
    return data, node


def validate(model: type[Model], data: dict[str, Any], path: Path, what: str,
             node: yaml.Node | None = None) -> Model:
    """Validate parsed data; on error, name the field, its line and the problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:5]:
            location = tuple(error["loc"])
            line = _line_of(node, location)
            field = ".".join(str(part) for part in location) or "(top level)"
            at = f" (line {line})" if line else ""
            problems.append(f"{field}{at}: {error['msg']}")
        raise ConfigError(f"{what} {path} is invalid: " + "; ".join(problems),
                          fix=f"correct the named field(s) in {path}.") from exc


def load_model_file(model: type[Model], path: Path, what: str) -> Model:
    """Parse and validate a YAML file into `model`."""
    data, node = load_yaml_mapping(path, what)
    return validate(model, data, path, what, node)
