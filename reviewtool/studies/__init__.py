"""Studies: the units of synthesis, built on the references included at full text.

A layer of its own between the stages and ``access``: screening (PRISMA counts), extraction, risk of
bias and analysis all name studies, and the stages do not import each other.
"""
