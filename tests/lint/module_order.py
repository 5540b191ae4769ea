#!/usr/bin/env python3
"""Fails on an #include <sidecar/...> that goes against the module order.

Every module's library gets the whole include/ root, so the build alone cannot catch a
lower module including a higher one (DESIGN.md "Module layout": a module uses only modules
above it). This reads every include under src/ and include/ and checks each edge.

The order is not written here: CMake passes its SIDECAR_MODULES list (the one place it is
encoded), e.g.  module_order.py --root . --order core config ... app
"""
import argparse
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*<sidecar/([^>]+)>', re.MULTILINE)
SOURCE_SUFFIXES = {".hpp", ".cpp", ".h", ".ipp"}


def included_module(target):
    """`core/clock.hpp` -> core; the facade header `client.hpp` -> client."""
    head = target.split("/", 1)[0]
    return head[: -len(".hpp")] if head.endswith(".hpp") else head


def owning_module(root, path):
    """The module a file belongs to, or None for src/main.cpp (above every module)."""
    parts = path.relative_to(root).parts
    if parts[0] == "src":
        return parts[1] if len(parts) > 2 else None
    # include/sidecar/<module>/x.hpp or include/sidecar/<module>.hpp
    return included_module("/".join(parts[2:]))


def violations(root, order):
    """Every (file, line, message) whose include goes downwards in `order` or to no module."""
    rank = {m: i for i, m in enumerate(order)}
    found = []
    for top in ("src", "include"):
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
                continue
            owner = owning_module(root, path)
            text = path.read_text(encoding="utf-8", errors="replace")
            for match in INCLUDE.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                used = included_module(match.group(1))
                where = f"{path.relative_to(root)}:{line}"
                if used not in rank:
                    found.append((where, f"<sidecar/{match.group(1)}> names no module in the order"))
                elif owner is not None and owner not in rank:
                    found.append((where, f"module '{owner}' is not in the order"))
                elif owner is not None and rank[used] > rank[owner]:
                    found.append((where, f"'{owner}' includes <sidecar/{match.group(1)}>: "
                                         f"'{used}' comes after '{owner}' in the module order"))
    return found


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path, required=True)
    parser.add_argument("--order", nargs="+", required=True)
    args = parser.parse_args(argv)
    found = violations(args.root.resolve(), args.order)
    for where, message in found:
        print(f"{where}: {message}")
    print(f"module order {' < '.join(args.order)}: {len(found)} wrong-way include(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
