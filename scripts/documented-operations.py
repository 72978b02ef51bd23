#!/usr/bin/env python3
"""Lists the operations OCP's API reference documents, one per line: METHOD PATH FILE.

Each page of the reference names its call under "Request path"; the path is taken as written
(misspellings included). Run from the repository with the reference beside it:
    python3 scripts/documented-operations.py ../shared/reference/ocp-doc/en-US/600.api-reference \
        > crates/ocp-server/tests/documented_operations.txt
"""
import pathlib
import re
import sys

CALL = re.compile(r"`\s*(GET|POST|PUT|DELETE|PATCH)\s+(/[^`\s?]*)[^`]*`")


def operations(root):
    for page in sorted(root.rglob("*.md")):
        # The overview pages at the top show calls as examples; operations are in folders.
        if page.parent == root:
            continue
        text = page.read_text(encoding="utf-8")
        heading = re.search(r"Request path", text)
        if not heading:
            continue
        call = CALL.search(text, heading.end())
        if call:
            yield call.group(1), call.group(2), page.relative_to(root).as_posix()


def main():
    root = pathlib.Path(sys.argv[1])
    print("# The operations of OCP's API reference (600.api-reference), made by")
    print("# scripts/documented-operations.py: method, path as documented, page. A call")
    print("# documented on two pages is listed twice.")
    for method, path, page in operations(root):
        print(f"{method} {path} {page}")


if __name__ == "__main__":
    main()
