"""Report stage: turn diagnostics, runs and explanations into text, data and HTML."""
