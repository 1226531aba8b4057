"""The people of a review and their roles."""
