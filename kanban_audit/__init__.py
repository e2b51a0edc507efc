"""Static analysis and audit for Kanban boards."""

__version__ = "0.1.0"
