"""Open a full text (a file or a URL) with the system's own program, or say where it is.

``xdg-open`` on Linux and the BSDs (only in a graphical session: over SSH there is nothing to show
a PDF on), ``open`` on macOS, the shell association on Windows (``os.startfile``). Python's
``webbrowser`` is not used: without a graphical session it falls back to text browsers (lynx,
w3m) that would take over the terminal the screening screen is drawn on. Where there is no
opener, the screen prints the location instead (and copies it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_URL = re.compile(r"^(?:https?|ftp|file)://", re.IGNORECASE)


@dataclass(frozen=True)
class Opening:
    """What happened to a request to open a full text: ``opened`` and the line to show."""

    opened: bool
    target: str
    message: str


def system_opener() -> list[str] | None:
    """The command that opens a file or URL in its default application, or None where there is none.

    Windows has no such command here: ``launch`` uses ``os.startfile`` there (``["startfile"]``).
    """
    if os.name == "nt":
        return ["startfile"]
    if sys.platform == "darwin":
        command = "open"
    else:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return None
        command = "xdg-open"
    found = shutil.which(command)
    return [found] if found else None


def launch(command: list[str], target: str) -> None:
    """Start ``command target`` detached from the terminal (no input, no output); OSError if it
    cannot start."""
    if command == ["startfile"]:
        os.startfile(target)  # type: ignore[attr-defined]  # Windows only
        return
    subprocess.Popen(
        [*command, target],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def resolve(location: str, base: Path | None) -> str | None:
    """``location`` as something to open: a URL as it is, a file as an absolute path (a relative
    path is looked for from the current folder, then from ``base``, the review's folder); None
    when the file is in neither."""
    if _URL.match(location):
        return location
    path = Path(location).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path]
    if base is not None and not path.is_absolute():
        candidates.append(base / path)
    for candidate in candidates:
        if candidate.exists():
            return str(candidate.resolve())
    return None


def open_location(location: str, base: Path | None = None) -> Opening:
    """Open the full text at ``location`` (a path or URL) with the system's opener.

    Returns what happened: opened; or not, with where the full text is (no opener, e.g. over
    SSH), or that the file is missing, or why the opener failed.
    """
    target = resolve(location, base)
    if target is None:
        where = f" or in {base}" if base is not None else ""
        return Opening(False, location, f"The full text file {location} is not found here{where}.")
    command = system_opener()
    if command is None:
        return Opening(False, target, f"No program to open it here; the full text is at {target}")
    try:
        launch(command, target)
    except OSError as exc:
        return Opening(
            False, target, f"{command[0]} could not open it ({exc}); the full text is at {target}"
        )
    return Opening(True, target, f"Opening {target}")
