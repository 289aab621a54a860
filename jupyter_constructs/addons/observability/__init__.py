"""Observability: ``bundle`` (the add-on), ``alerts`` and ``dashboard`` (pure Python data)."""
