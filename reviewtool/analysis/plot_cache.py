"""Plot files drawn once: a content-addressed cache of the forest and funnel plot files.

A plot is a pure function of its job (the stored analysis it shows, its kind, its options), the
file format and the drawing code. ``report build`` draws the same forest and funnel plots that
``analyze run --out`` drew a moment before (drawing is most of what both spend their time on), so
each drawn file is kept under a key made of all of those, and a later job with the same key gets
a copy instead of a new drawing. The key (SHA-256) covers:

- the job as canonical JSON, without its target paths (``plots.figure_for`` reads nothing else);
- the file's extension and the resolution (``plots.DPI``);
- the drawing code: the source of every module of ``reviewtool.analysis`` and reviewtool's
  version; matplotlib's version, its settings (``rcParams``, after ``forest.pyplot`` set the
  backend) and the font file it uses by default.

Any change to one of them gives a new key, so a copy is always a file the current code would
draw. The cache is a folder of ``KEY.EXT`` files: ``$REVIEWTOOL_PLOT_CACHE``, else
``$XDG_CACHE_HOME/reviewtool/plots`` (``~/.cache/reviewtool/plots``); ``REVIEWTOOL_PLOT_CACHE=off``
turns it off. It is best effort: a folder that cannot be read or written means drawing as before.
Files are put in place by rename (pool workers may write the same key at once), a copy used is
touched, and :func:`prune` keeps the :data:`MAX_FILES` most recently used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

MAX_FILES = 1000
"""Files the cache keeps (a sample review's run is about 120 files, 20 MB)."""

ENV = "REVIEWTOOL_PLOT_CACHE"


def folder() -> Path | None:
    """The cache folder (see the module docstring), or None when turned off."""
    chosen = os.environ.get(ENV, "").strip()
    if chosen.lower() in ("off", "0", "no", "false"):
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "reviewtool" / "plots"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of what draws a plot besides its job: reviewtool's version and its analysis
    modules' source, matplotlib's version, settings and default font (see the module docstring).
    Call after ``forest.pyplot()`` has set matplotlib up."""
    import matplotlib
    from matplotlib.font_manager import FontProperties, findfont

    from reviewtool import __version__

    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for source in sorted(here.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    settings = sorted((k, repr(v)) for k, v in matplotlib.rcParams.items())
    for part in (__version__, matplotlib.__version__, repr(settings), findfont(FontProperties())):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def key(job: Mapping[str, Any], suffix: str, dpi: int) -> str:
    """The cache key of one file of a plot job: SHA-256 of the job without its paths, the file's
    ``suffix`` (``.png``), the resolution and :func:`code_fingerprint`."""
    content = {k: v for k, v in job.items() if k != "paths"}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=repr)
    digest = hashlib.sha256()
    for part in (text, suffix.lower(), str(dpi), code_fingerprint()):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def fetch(job: Mapping[str, Any], dpi: int) -> list[str] | None:
    """Copy every file of ``job`` (``job["paths"]``) from the cache; the paths, or None (nothing
    copied) unless all of them are there."""
    where = folder()
    if where is None:
        return None
    paths = [Path(p) for p in job["paths"]]
    found = [where / f"{key(job, p.suffix, dpi)}{p.suffix.lower()}" for p in paths]
    if not all(f.is_file() for f in found):
        return None
    try:
        for source, target in zip(found, paths, strict=True):
            shutil.copyfile(source, target)
            os.utime(source)  # most recently used: kept by prune
    except OSError:
        for target in paths:
            target.unlink(missing_ok=True)
        return None
    return [str(p) for p in paths]


def store(job: Mapping[str, Any], dpi: int) -> None:
    """Keep a copy of every file of ``job`` just drawn (best effort: errors are ignored)."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        for path in (Path(p) for p in job["paths"]):
            fd, temp = tempfile.mkstemp(dir=where, prefix=".partial-", suffix=path.suffix)
            os.close(fd)
            try:
                shutil.copyfile(path, temp)
                os.replace(temp, where / f"{key(job, path.suffix, dpi)}{path.suffix.lower()}")
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
    except OSError:
        pass


def prune(limit: int = MAX_FILES) -> None:
    """Remove all but the ``limit`` most recently used files of the cache (best effort)."""
    where = folder()
    if where is None or not where.is_dir():
        return
    try:
        files = [(entry.stat().st_mtime, entry.path) for entry in os.scandir(where)]
    except OSError:
        return
    for _, path in sorted(files, reverse=True)[limit:]:
        with contextlib.suppress(OSError):
            os.unlink(path)
