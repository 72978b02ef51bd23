#!/usr/bin/env python3
"""Lists the fields of the sample answers in OCP's API reference, one line per GET operation:
PATH FIELD FIELD ..., each field the dotted path of a key under `data` (`[]` for the items of
a list), for the pages whose sample answer is JSON. Run from the repository:
    python3 scripts/documented-fields.py ../shared/reference/ocp-doc/en-US/600.api-reference \
        > crates/ocp-server/tests/documented_fields.txt
"""
import json
import pathlib
import re
import sys

CALL = re.compile(r"`\s*GET\s+(/[^`\s?]*)[^`]*`")
SAMPLE = re.compile(r"Sample response.*?```[a-z]*\n(.*?)```", re.S | re.I)


# Objects whose keys are values (a parameter's values, labels, a task's context maps): the
# field is listed, its keys are not.
MAPS = {"valueToServers", "labels", "stringMap", "listMap"}


def fields(value, prefix=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            if key not in MAPS:
                yield from fields(inner, path)
    elif isinstance(value, list):
        for item in value:
            yield from fields(item, f"{prefix}[]")


def main():
    root = pathlib.Path(sys.argv[1])
    print("# Fields of the sample answers of OCP's API reference (GET operations whose sample")
    print("# is JSON), made by scripts/documented-fields.py: path, then each field under data.")
    for page in sorted(root.rglob("*.md")):
        if page.parent == root:
            continue
        text = page.read_text(encoding="utf-8")
        heading = text.find("Request path")
        call = CALL.search(text, heading) if heading >= 0 else None
        sample = SAMPLE.search(text)
        if not call or not sample:
            continue
        try:
            answer = json.loads(sample.group(1))
        except json.JSONDecodeError:
            continue
        data = answer.get("data")
        if data is None:
            continue
        names = sorted(set(fields(data)))
        if names:
            print(call.group(1), " ".join(names))


if __name__ == "__main__":
    main()
