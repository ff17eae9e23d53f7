"""bench/RESULTS.md: each benchmark adds its rows or blocks to its own section."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def results_add(*, section: str, text: str, intro: str = "", row: bool = False) -> None:
    """Add `text` to `section` (a `## …` heading), creating the section at the end of the
    file with `intro` (a table header, say) if it is missing. A `row` goes right after the
    section's last table row (its notes stay below the table); a block goes at its end."""
    content = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if section not in content:
        content = content.rstrip("\n") + f"\n\n{section}\n\n{intro}"
    start = content.index(section) + len(section)
    end = content.find("\n## ", start)
    end = len(content) if end < 0 else end
    body = content[start:end]
    lines = body.splitlines(keepends=True)
    rows = [index for index, line in enumerate(lines) if line.startswith("|")]
    if row and rows:
        last = rows[-1]
        body = "".join(lines[: last + 1]) + text.rstrip("\n") + "\n" + "".join(lines[last + 1 :])
        RESULTS.write_text(content[:start] + body + content[end:])
        return
    head, tail = content[:end].rstrip("\n") + "\n", content[end:]
    RESULTS.write_text(head + text.rstrip("\n") + "\n" + tail)
