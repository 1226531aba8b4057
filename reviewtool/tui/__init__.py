"""Textual screens: views over the library services, no SQL here."""
