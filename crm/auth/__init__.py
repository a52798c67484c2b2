"""Login, logout and language choice."""
