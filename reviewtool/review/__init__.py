"""The review as a whole: creating and opening it, its settings, where it stands."""
