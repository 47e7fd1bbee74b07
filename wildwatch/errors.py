"""The one base class of every "your input is wrong" error: a file, option, config entry, URL or database URL.

A leaf module (it imports nothing), so every layer may raise a subclass and the CLI catches just this class:
one line and exit code 2, never a stack trace. Errors of wildwatch's own making (bugs, outages it cannot
name a cause for) do not subclass it.
"""
from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix from the message alone; str(error) is that message."""
