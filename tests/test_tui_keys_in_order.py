"""Issue 9 item 1 as a rule over the whole TUI: every screen and dialog takes keys in the order
typed (``tui/widgets/ordered_keys``), so a key meant for the screen can never land in a closed
input. The back-to-back Pilot tests are in test_tui_screening / _adjudication / _dedup_review."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

import reviewtool.tui
from reviewtool.tui.widgets.ordered_keys import Dialog, OrderedKeysApp, OrderedScreen


def _classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(reviewtool.tui.__path__, "reviewtool.tui."):
        module = importlib.import_module(info.name)
        found += [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if c.__module__ == module.__name__
        ]
    return found


def test_every_dialog_screen_and_app_takes_keys_in_order() -> None:
    classes = _classes()
    apps = [c for c in classes if issubclass(c, App) and c is not OrderedKeysApp]
    screens = [c for c in classes if issubclass(c, Screen) and c not in (Dialog, OrderedScreen)]
    assert {c.__name__ for c in apps} >= {"ScreeningApp", "AdjudicationApp", "DedupReviewApp"}
    assert all(issubclass(c, OrderedKeysApp) for c in apps)
    assert {c.__name__ for c in screens} >= {
        "ScreeningScreen",
        "AdjudicationScreen",
        "ChoiceScreen",
        "PromptScreen",
        "HelpScreen",
    }
    for screen in screens:
        if issubclass(screen, ModalScreen):
            assert issubclass(screen, Dialog), screen  # takes its keys synchronously
        else:
            assert issubclass(screen, OrderedScreen), screen
    # A main screen's (or app's) own keys run at once, in the app's queue, in the order typed.
    for owner in [*apps, *(s for s in screens if issubclass(s, OrderedScreen))]:
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and owner.__module__.startswith("reviewtool."):
                if binding in App.BINDINGS:
                    continue
                assert binding.priority, (owner, binding.key)
