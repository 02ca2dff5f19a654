"""Per-lesson computations behind the pages: NumPy only, examples are columns (n_x, m)."""
