"""Runtime stage, errors: why a run cannot start or go on, said without a traceback."""

from __future__ import annotations


class RunError(Exception):
    """A run that cannot be made as asked: an as-of before the last run, missing
    data, or an input the rules need that is not there."""
