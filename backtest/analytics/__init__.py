"""Pure statistics on arrays and frames: performance figures, overfitting guards, event studies
and the information coefficient. No I/O, no rendering; stats.json and the report share them."""
