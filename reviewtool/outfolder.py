"""Folders written whole: every ``--out DIR`` folder (``analyze run/export``, ``rob plot``,
``report prisma``) and the ``report build`` folder is written into a temporary sibling folder
and renamed into place when complete.

A kill at any moment leaves either the old folder (or none) or the complete new one, never a
partial one. What a kill can leave besides is a hidden sibling ``.DIR.partial-PID-XXXX`` (being
written) or ``.DIR.old-PID-XXXX`` (the old folder, between the two renames of a replacement),
each named so that it says it is not the export; the next write to DIR removes those left by
processes that are gone.

An existing DIR is replaced, only once the new one is complete, when nothing would be lost that
reviewtool did not write: every file in it is one the new export writes again, one listed in
the marker file (:data:`MARKER`) of the earlier reviewtool export it holds, or (for a folder
written before markers) one whose name an export of that kind writes. Any other folder is
refused (:class:`InvalidInput` naming DIR and one foreign file) and left as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from reviewtool.errors import InvalidInput

MARKER = ".reviewtool-export"
"""The file in every folder this module wrote: JSON ``{"kind": ..., "files": [...]}``."""

PARTIAL = "partial"
OLD = "old"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clear_leftovers(target: Path) -> list[Path]:
    """Remove the temporary siblings of ``target`` (``.NAME.partial-PID-…``, ``.NAME.old-PID-…``)
    left by processes that no longer run; the paths removed."""
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for sibling in target.parent.iterdir():
        for kind in (PARTIAL, OLD):
            prefix = f".{target.name}.{kind}-"
            if not sibling.name.startswith(prefix) or not sibling.is_dir():
                continue
            pid = sibling.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(sibling, ignore_errors=True)
                removed.append(sibling)
    return removed


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


def check_target(target: Path, could_write: Callable[[str], bool] | None = None) -> None:
    """:class:`InvalidInput` when ``target`` is a file, or its parent folder is missing (and
    cannot be made because a file stands in the way). Called before any work is done.

    With ``could_write`` (a relative file name -> may this kind of export write it?), also when
    ``target`` holds a file that is neither one an export of this kind could write nor listed in
    the marker of the export it holds: such a folder would be refused after the work anyway.
    """
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target}: exists and is not a folder")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInput(f"{target}: {parent} is not a folder")
            break
    if could_write is not None and target.is_dir():
        foreign = [f for f in sorted(_files(target) - _marked(target)) if not could_write(f)]
        _refuse(target, [f for f in foreign if f != MARKER])


def _refuse(target: Path, foreign: list[str]) -> None:
    if foreign:
        raise InvalidInput(
            f"{target}: exists and holds files reviewtool did not write there (e.g. "
            f"{foreign[0]}); an export replaces its folder whole, so give a new or empty folder"
        )


def _marked(target: Path) -> set[str]:
    """The files an earlier export listed in ``target``'s marker (empty without one)."""
    try:
        listed = json.loads((target / MARKER).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(f) for f in listed} if isinstance(listed, list) else set()


def _check_replaceable(
    target: Path, new_files: set[str], could_write: Callable[[str], bool] | None
) -> None:
    """:class:`InvalidInput` when replacing ``target`` would lose a file reviewtool did not
    write: one neither in the new export, nor listed in the marker of the export it replaces,
    nor one this kind of export could write (``could_write``: an export made before markers)."""
    if not target.exists():
        return
    left = sorted(_files(target) - new_files - _marked(target) - {MARKER})
    _refuse(target, [f for f in left if could_write is None or not could_write(f)])


@contextlib.contextmanager
def written_whole(
    target: str | Path, *, kind: str, could_write: Callable[[str], bool] | None = None
) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; when the block ends without an error,
    put it in place of ``target`` (see the module's rules for an existing ``target``), with the
    :data:`MARKER` file. On an error the temporary folder is removed and ``target`` is untouched.

    ``kind`` names the export (``"analysis"``, ``"rob plot"``, ``"prisma"``) in the marker;
    ``could_write`` (relative name -> bool) says which files an export of this kind may write,
    so that a folder it wrote before markers existed counts as its own (see :func:`check_target`).
    Errors: :class:`InvalidInput` for a ``target`` that is a file or a folder holding files
    reviewtool did not write (checked before and again after writing), or that cannot be written.
    """
    target = Path(target)
    check_target(target, could_write)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clear_leftovers(target)
        temp = Path(
            tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{PARTIAL}-{os.getpid()}-")
        )
    except OSError as exc:
        raise InvalidInput(f"{exc.filename or target}: cannot write ({exc.strerror})") from None
    try:
        yield temp
        written = _files(temp) - {MARKER}  # one a writer inside left is replaced below
        _check_replaceable(target, written, could_write)
        (temp / MARKER).write_text(
            json.dumps({"kind": kind, "files": sorted(written)}, indent=1) + "\n",
            encoding="utf-8",
        )
        _fsync_tree(temp)
        _swap(temp, target)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise InvalidInput(f"{exc.filename or target}: cannot write ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _fsync_tree(folder: Path) -> None:
    """Flush the files and folders to disk before the rename makes them the export."""
    for path in [*folder.rglob("*"), folder]:
        flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
        try:
            fd = os.open(path, flags)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _swap(temp: Path, target: Path) -> None:
    """``temp`` becomes ``target``; an old ``target`` is moved aside first and then removed."""
    if not target.exists():
        os.rename(temp, target)
        return
    aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{OLD}-{os.getpid()}-"))
    os.rename(target, aside / "x")  # a kill from here on leaves the old folder in `aside`
    os.rename(temp, target)
    shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def written_file(target: str | Path) -> Iterator[Path]:
    """Yield a temporary file path beside ``target`` (``.NAME.partial-PID-XXXX.EXT``); when the block
    ends without an error, rename it to ``target`` (replacing a file there). On an error the
    temporary file is removed and ``target`` is untouched.

    Errors: :class:`InvalidInput` for a ``target`` that is a folder, a missing parent folder,
    or a file that cannot be written.
    """
    with _written(Path(target), replace=True) as temp:
        yield temp


@contextlib.contextmanager
def written_new_file(target: str | Path) -> Iterator[Path]:
    """:func:`written_file` for a file that must not exist yet (a backup never overwrites one):
    :class:`InvalidInput` when ``target`` exists before the block, and, nothing replaced, when
    another process made it while the block ran (the finished file is hard-linked to its name,
    which the system refuses when the name is taken; where hard links are not supported, the
    name is checked just before the rename).
    """
    with _written(Path(target), replace=False) as temp:
        yield temp


def _temporary(target: Path) -> Path:
    if target.is_dir():
        raise InvalidInput(f"{target}: is a folder (give a file name)")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target}: the folder {target.parent} does not exist")
    try:
        fd, name = tempfile.mkstemp(
            dir=target.parent,
            prefix=f".{target.name}.{PARTIAL}-{os.getpid()}-",
            suffix=target.suffix,  # writers that go by the extension (pandas) see the real one
        )
        os.close(fd)
    except OSError as exc:
        raise InvalidInput(f"{exc.filename or target}: cannot write ({exc.strerror})") from None
    return Path(name)


def _exists_already(target: Path) -> InvalidInput:
    return InvalidInput(f"{target} exists already: it is never overwritten")


def _put_new(temp: Path, target: Path) -> bool:
    """``temp`` becomes ``target`` unless that name is taken (then False, nothing changed)."""
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system
        if target.exists():
            return False
        os.replace(temp, target)
        return True
    temp.unlink()
    return True


@contextlib.contextmanager
def _written(target: Path, *, replace: bool) -> Iterator[Path]:
    if not replace and target.exists():
        raise _exists_already(target)
    temp = _temporary(target)
    try:
        yield temp
        with temp.open("rb") as fh:
            os.fsync(fh.fileno())
        if replace:
            os.replace(temp, target)
        elif not _put_new(temp, target):
            raise _exists_already(target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInput(f"{exc.filename or target}: cannot write ({exc.strerror})") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
