"""Widgets and modal screens shared by the screening and adjudication screens."""
