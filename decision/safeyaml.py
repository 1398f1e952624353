"""Safe YAML loading: no object construction, duplicate keys rejected, size, alias and expansion limits.

The limits come from the `limits` section of data/parameters.yaml (decision.limits).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from decision.errors import InputError, Issue
from decision.limits import LIMITS, size_text
from decision.shipped import TIMESTAMP_TAG, StrictConstruction, load_shipped

MAX_YAML_BYTES = LIMITS["profile_yaml_max_bytes"]
MAX_ALIASES = LIMITS["yaml_max_aliases"]
MAX_NODES = LIMITS["yaml_max_nodes"]
FALLBACK_ERRORS = "certstrategy-cp1252"  # codec error handler: bytes that are not UTF-8 read as Windows-1252
UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)  # check before UTF-16's: FF FE 00 00 starts with FF FE
UTF32_TEXT = "UTF-32 text, which is not read: save the file as UTF-8"


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 refused one by one as Windows-1252 (Latin-1 where 1252 leaves a byte undefined).

    A file saved as "ANSI" by Windows tools, or one mixing such lines with UTF-8 ones, keeps every character.
    """
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start:exc.end]
    return "".join(codecs.decode(bytes([b]), "cp1252", "ignore") or chr(b) for b in chunk), exc.end


codecs.register_error(FALLBACK_ERRORS, _cp1252_fallback)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values `root` holds with every alias expanded, counted without expanding (stops above `limit`).

    An alias is the node it names, so a shared node is counted once per use; a node that contains itself
    (a recursive alias) raises YAMLError.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > limit:
                return sizes[key]
            continue
        if key in sizes:
            continue
        if key in open_:
            raise yaml.YAMLError("an alias refers to a value that contains it (recursive alias)")
        open_.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                raise yaml.YAMLError("an alias refers to a value that contains it (recursive alias)")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


class _StrictLoader(StrictConstruction, yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, alias bombs and recursive aliases; a bad date stays text."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases")
        return super().compose_node(parent, index)

    def get_single_node(self):  # type: ignore[override]
        node = super().get_single_node()
        if node is not None and self._aliases and expanded_size(node, MAX_NODES) > MAX_NODES:
            raise yaml.YAMLError(f"its aliases expand to more than {MAX_NODES:,} values")
        return node


_StrictLoader.add_constructor(TIMESTAMP_TAG, _StrictLoader.construct_yaml_timestamp)


class _ProfileLoader(_StrictLoader):
    """`_StrictLoader` reading booleans as YAML 1.2 does: only true / false. The YAML 1.1 words yes, no, on and off
    stay text, so `country: NO` is Norway, not false; a yes/no field reads those words itself (profiles.BOOL_WORDS)."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_ProfileLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _StrictLoader.yaml_implicit_resolvers.items()}
_ProfileLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml_text(text: str, source: str, *, profiles: bool = False) -> Any:
    """Parse YAML text safely; any problem becomes an InputError naming `source` and the line. `profiles`: read
    booleans as YAML 1.2 does (`_ProfileLoader`)."""
    if len(text) > MAX_YAML_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise InputError(Issue(source, 0, "", f"file is larger than {size_text(MAX_YAML_BYTES)}"))
    with _yaml_errors(source):
        return yaml.load(text, Loader=_ProfileLoader if profiles else _StrictLoader)


@contextmanager
def _yaml_errors(source: str) -> Iterator[None]:
    """A YAML problem as an InputError naming `source` and the line."""
    try:
        yield
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(Issue(source, 0, "", f"not valid YAML{where}: {problem}")) from None
    except RecursionError:
        raise InputError(Issue(source, 0, "", "not valid YAML: nested too deeply")) from None


def decode_text(data: bytes) -> str:
    """Bytes of a text file → text: UTF-8 (with or without BOM), UTF-16 with a BOM, and any byte that is not
    UTF-8 read as Windows-1252, so ANSI files and files mixing both encodings keep their characters."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    return data.decode("utf-8-sig", FALLBACK_ERRORS)


def read_text(path: Path, limit: int = MAX_YAML_BYTES) -> str:
    """Read a text file (see `decode_text`), refusing UTF-32 and binary files and files over `limit` before reading
    them."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(Issue(str(path), 0, "", f"file is larger than {size_text(limit)}"))
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(Issue(str(path), 0, "", f"cannot read file: {exc.strerror or exc}")) from None
    if data.startswith(UTF32_BOMS):
        raise InputError(Issue(str(path), 0, "", UTF32_TEXT))
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(Issue(str(path), 0, "", "binary file, not text"))
    return decode_text(data)


def load_yaml_file(path: Path | str, limit: int = MAX_YAML_BYTES, *, shipped: bool = False) -> Any:
    """Load one YAML file safely; `shipped`: a data file of the product itself, parsed once per process without the
    limits of user input (decision.shipped)."""
    path = Path(path)
    if shipped:
        with _yaml_errors(str(path)):
            return load_shipped(path)
    return load_yaml_text(read_text(path, limit), str(path))
