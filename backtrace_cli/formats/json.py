"""The ``json`` format: the report's data as one JSON object (docs/cli.md, docs/schema/)."""

from __future__ import annotations

import json

from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.report.model import Report

# Indented JSON is for a person reading it; a document past this many characters compactly
# encoded is written compactly (a program of thousands of nodes).
INDENT_BELOW_CHARACTERS = 400_000


def write(report: Report, options: Options = PLAIN) -> str:
    compact = (report.json_text() if report.json_text is not None
               else json.dumps(report.data, ensure_ascii=False, separators=(",", ":")))
    if report.compact or (report.compact is None and len(compact) > INDENT_BELOW_CHARACTERS):
        return compact + "\n"
    return json.dumps(json.loads(compact), ensure_ascii=False, indent=2) + "\n"
