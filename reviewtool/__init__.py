"""reviewtool: a terminal-first workflow manager for systematic reviews."""

__version__ = "0.1.0"
