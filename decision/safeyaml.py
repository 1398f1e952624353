"""Safe YAML loading: no object construction, duplicate keys rejected, size and alias limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from decision.errors import InputError, Issue

MAX_YAML_BYTES = 1_000_000
MAX_ALIASES = 100


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and alias bombs."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be text or a number", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text safely; any problem becomes an InputError naming `source` and the line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise InputError(Issue(source, 0, "", f"file is larger than {MAX_YAML_BYTES // 1000} kB"))
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(Issue(source, 0, "", f"not valid YAML{where}: {problem}")) from None
    except RecursionError:
        raise InputError(Issue(source, 0, "", "not valid YAML: nested too deeply")) from None


def read_text(path: Path, limit: int = MAX_YAML_BYTES) -> str:
    """Read a text file (UTF-8, with or without BOM; Latin-1 fallback), refusing files over `limit`."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(Issue(str(path), 0, "", f"cannot read file: {exc.strerror}")) from None
    if size > limit:
        raise InputError(Issue(str(path), 0, "", f"file is larger than {limit // 1000} kB"))
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(Issue(str(path), 0, "", "binary file, not text"))
    for encoding in ("utf-8-sig", "utf-16"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def load_yaml_file(path: Path | str, limit: int = MAX_YAML_BYTES) -> Any:
    """Load one YAML file safely."""
    path = Path(path)
    return load_yaml_text(read_text(path, limit), str(path))
