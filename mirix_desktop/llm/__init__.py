"""Language-model providers behind one small streaming interface (base.py)."""
