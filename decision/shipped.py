"""YAML data files shipped with the product (data/*.yaml): parsed once per process, with libyaml's C loader.

They are part of the product, not input, so they skip the size and alias limits user-supplied YAML gets
(decision.safeyaml, whose alias count needs PyYAML's Python parser); keys and dates are checked the same way
(`StrictConstruction`). The C loader parses them ~10x faster than the Python one, which every run would pay at start.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml


class StrictConstruction:
    """Loader mix-in: a duplicate key is refused; a date-like scalar that is no real date (2026-02-30) stays text."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` merges; its keys may be overridden
                continue
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

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date-like scalar that is no real date (2026-02-30) stays text, so validation names its field."""
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _ShippedLoader(StrictConstruction, yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):
    """SafeLoader (libyaml's where PyYAML was built with it) with `StrictConstruction`."""


_ShippedLoader.add_constructor(TIMESTAMP_TAG, _ShippedLoader.construct_yaml_timestamp)


@cache
def _parsed(path: Path) -> Any:
    return yaml.load(path.read_bytes(), Loader=_ShippedLoader)


def load_shipped(path: Path | str) -> Any:
    """The data of a shipped YAML file, parsed on first use (a copy each call: callers may change it).
    yaml.YAMLError if the file is not valid YAML."""
    return copy.deepcopy(_parsed(Path(path)))
