"""Static analysis and audit for Kanban boards."""

__version__ = "0.1.0"
# The version of the JSON documents `lint` and `audit` print.
JSON_VERSION = 1
