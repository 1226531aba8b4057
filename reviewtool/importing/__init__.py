"""Identification stage: reading search exports into ``CitationIn`` records.

Pure parsing lives in ``reviewtool.importing.parsers`` (entry points ``parse_file`` and
``parse_bytes``), format and encoding detection in ``detect`` and field clean-up in ``normalize``.
Nothing here is imported eagerly, so ``import reviewtool.importing`` stays cheap.
"""
