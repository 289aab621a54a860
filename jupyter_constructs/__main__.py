"""``python -m jupyter_constructs COMMAND``: the library's command line.

Commands:

- ``plan``: compare a fresh synth with the committed output and flag changes that will
  not apply in place or that lose data (``jupyter_constructs.delivery.plan``).
- ``from-z2jh``: turn a Zero to JupyterHub ``values.yaml`` into a typed app, with a
  report of every key not mapped (``jupyter_constructs.delivery.z2jh``).
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m jupyter_constructs COMMAND [options]

commands:
  plan       compare a fresh synth with the committed dist/ (or a git ref), object by
             object; exit 2 when a change will not apply in place or loses data
  from-z2jh  turn a Zero to JupyterHub values.yaml into a typed app (app.py) and print
             every key it could not map and the steps that keep homes and sign-ins
"""


def main(argv: list[str] | None = None) -> int:
    """Run ``COMMAND`` (``argv[0]``); print the usage and return 2 for anything else."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "plan":
        from jupyter_constructs.delivery.plan import main as plan

        return plan(args[1:])
    if args and args[0] == "from-z2jh":
        from jupyter_constructs.delivery.z2jh import main as from_z2jh

        return from_z2jh(args[1:])
    print(
        USAGE, end="", file=sys.stderr if args and args[0] not in ("-h", "--help") else sys.stdout
    )
    return 0 if args and args[0] in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
