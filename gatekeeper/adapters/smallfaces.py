"""The enlarged second look, now in `gatekeeper.adapters.engine.second_look` (and its sifting in
`engine.sift`); kept so that older imports still find it."""

from gatekeeper.adapters.engine.second_look import second_look, windows

__all__ = ["second_look", "windows"]
