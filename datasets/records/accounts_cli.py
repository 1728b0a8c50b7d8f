"""The analyst accounts on the command line (wired into `python -m datasets`):

    python -m datasets add-analyst NAME                      # asks for the password twice
    printf '%s\\n' "$PASSWORD" | python -m datasets add-analyst NAME --password-stdin
    python -m datasets remove-analyst NAME
    python -m datasets list-analysts

Accounts are created here only, never over the web.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from . import accounts
from .accounts import AccountError


def _path(args: argparse.Namespace) -> Path:
    import config

    data_dir = Path(args.data_dir or config.from_env().data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / accounts.ACCOUNTS_FILE
    accounts.create(path)
    return path


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass(f"Password for {args.name}: ")
    second = getpass.getpass("Same password again: ")
    if first != second:
        raise AccountError("the two passwords differ; nothing was changed")
    return first


def cmd_add_analyst(args: argparse.Namespace) -> int:
    try:
        accounts.check_name(args.name)
        password = _read_password(args)
        analyst = accounts.add(_path(args), args.name, password, update=args.update)
    except (AccountError, EOFError, KeyboardInterrupt) as exc:
        print(str(exc) or "cancelled", file=sys.stderr)
        return 2
    print(f"analyst {analyst.name} {'updated' if args.update else 'added'}")
    return 0


def cmd_remove_analyst(args: argparse.Namespace) -> int:
    try:
        accounts.remove(_path(args), args.name)
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"analyst {args.name} removed")
    return 0


def cmd_list_analysts(args: argparse.Namespace) -> int:
    for a in accounts.list_all(_path(args)):
        print(f"{a.name:<32} created {a.created_at[:10]}  last login {(a.last_login or '-')[:16]}")
    return 0


def add_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register the account subcommands; `add(name, help)` makes a subparser with --data-dir."""
    p = add("add-analyst", "create an analyst account (asks for the password twice)")
    p.add_argument("name", help="login name: letters, digits, '.', '_', '@', '-'")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )
    p.add_argument("--update", action="store_true", help="set the password of an existing one")
    p.set_defaults(run=cmd_add_analyst)

    p = add("remove-analyst", "delete an analyst account (ends its sessions)")
    p.add_argument("name")
    p.set_defaults(run=cmd_remove_analyst)

    p = add("list-analysts", "print the analyst accounts")
    p.set_defaults(run=cmd_list_analysts)
