#!/usr/bin/env python3
"""Writes the seekdb parameter catalog the platform checks startup parameters against.

Reads `name<TAB>data_type<TAB>info` rows on stdin, as a running seekdb answers
  mariadb -h127.0.0.1 -P PORT -uroot -N -e "select name, data_type, info from
    oceanbase.__all_virtual_sys_parameter_stat order by name"
and writes `name<TAB>TYPE<TAB>RANGE` lines, RANGE being the interval the info text states
after "Range:" in the form [lo,hi) (an empty bound is unbounded), optionally preceded by
exact values and `|` (`0|[1G,)`), or empty when the text states none.
"""
import re
import sys

INTERVAL = re.compile(r"([\[(])\s*([^,\[\]()]*?)\s*,\s*([^,\[\]()]*?)\s*([\])])")


def normalized(info: str) -> str:
    at = info.find("Range:")
    if at < 0:
        return ""
    text = info[at + len("Range:"):]
    found = INTERVAL.search(text)
    if not found:
        return ""
    opening, low, high, closing = found.groups()
    bound = lambda b: "" if b in ("", "+∞", "∞", "+inf") else b
    exact = [v.strip() for v in text[: found.start()].split(",") if v.strip()]
    if any(not re.fullmatch(r"[0-9A-Za-z.]+", v) for v in exact):
        return ""
    return "|".join(exact + [f"{opening}{bound(low)},{bound(high)}{closing}"])


for line in sys.stdin:
    name, kind, info = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    print(f"{name}\t{kind}\t{normalized(info)}")
