"""``python -m heron sync [RUN_DIR...]``: the SDK's share of the ``heron`` command."""

from __future__ import annotations

import argparse
import sys

from . import _native


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heron", description="Heron SDK commands")
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser(
        "sync",
        help="upload offline or interrupted runs",
        description="Uploads runs logged offline, or left behind by a crash or a finish() timeout. "
        "Safe to run twice and on a run still being written. With no folders, every run under "
        "HERON_DIR (default ./heron) that is not fully uploaded.",
    )
    sync.add_argument("dirs", nargs="*", help="run folders")
    sync.add_argument("--host", default=None, help="server URL (default HERON_BASE_URL)")
    sync.add_argument("--key", default=None, help="API key (default HERON_API_KEY or the credentials file)")
    args = parser.parse_args(argv)
    outcomes = _native.sync(args.dirs, base_url=args.host, api_key=args.key, verbose=True)
    if not outcomes:
        print("Nothing to sync.")
    failed = 0
    for o in outcomes:
        if o["status"] == "failed":
            failed += 1
            print(f"{o['dir']}: failed: {o['error']}")
        else:
            print(f"{o['dir']}: {o['status']} ({o['rows']} rows sent)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
