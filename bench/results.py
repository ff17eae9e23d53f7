"""bench/RESULTS.md: each benchmark adds its rows or blocks at the end of its own section."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def results_add(*, section: str, text: str, intro: str = "") -> None:
    """Append `text` at the end of `section` (a `## …` heading), creating it at the end of the
    file with `intro` (a table header, say) if it is missing."""
    content = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if section not in content:
        content = content.rstrip("\n") + f"\n\n{section}\n\n{intro}"
    start = content.index(section) + len(section)
    end = content.find("\n## ", start)
    end = len(content) if end < 0 else end
    head, tail = content[:end].rstrip("\n") + "\n", content[end:]
    RESULTS.write_text(head + text.rstrip("\n") + "\n" + tail)
