"""The forecast and provision sections of the weekly PDF and the dashboard (registered in ready())."""

from __future__ import annotations


def register() -> None:
    return None
