"""Screening: dual-reviewer title/abstract and full-text decisions, conflicts and agreement.

``agreement`` is the pure statistics kernel (Cohen's kappa, PABAK, Gwet's AC1); it touches no
database, so the service layer and the CLI can both call it and tests need no fixtures.
"""
