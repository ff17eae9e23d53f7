"""The `tawasul` console script: every operator task, one entry point.

`tawasul <command>` runs a Django management command with the project's
settings; a few short names are added for daily work:

    tawasul web       serve HTTP on 127.0.0.1:8000 (development server)
    tawasul worker    run the background worker (Huey consumer)
    tawasul demo      load the demo ministry (once; --if-empty to skip if loaded)
    tawasul migrate   apply database migrations
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "web": ["runserver", "127.0.0.1:8000"],
    "worker": ["run_huey"],
}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] in ALIASES:
        args = [args[0], *ALIASES[args[1]], *args[2:]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)
    return 0
