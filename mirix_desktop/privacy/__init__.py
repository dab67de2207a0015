"""What must never be remembered, decided before anything reaches the store.

`exclusions.py`: windows that are not captured at all (the shipped password
manager and private-window rules, and the user's own). `redaction.py`: secrets
inside OCR text, replaced by a marker (its rules in `secret_spans.py` and
`secret_patterns.py`). The capture pipeline, the assistant and
the configuration use them; this package imports nothing else of the app.
"""
