"""The worked example of the basket-analysis paper (seed 002, Tables I-III), as data."""

import numpy as np

PAPER_TABLE1 = {
    "A": ["Day cream", "Facial cleanser", "Evening cream"],
    "B": ["Shampoo", "Night cream", "Shower gel"],
    "C": ["Facial cleanser", "Evening cream"],
    "D": ["Shampoo", "Shower gel", "Facial cleanser", "Day cream"],
    "E": ["Shampoo"],
    "F": ["Shampoo", "Shower gel"],
}
PAPER_ITEMS = ["Facial Cleanser", "Sun frost", "Night Cream", "Shampoo", "Shower Gel"]
PAPER_TABLE2 = np.array(
    [[3, 2, 2, 1, 1], [2, 2, 1, 1, 1], [2, 1, 3, 1, 1], [1, 1, 1, 4, 3], [1, 1, 1, 3, 3]], dtype=float
)
PAPER_TABLE3 = np.array(
    [
        [np.nan, 0.667, 0.667, 0.333, 0.333],
        [1.0, np.nan, 0.5, 0.5, 0.5],
        [0.667, 0.333, np.nan, 0.333, 0.333],
        [0.25, 0.25, 0.25, np.nan, 0.75],
        [0.333, 0.333, 0.333, 1.0, np.nan],
    ]
)
# Item names of Table I as they appear in Table II (the English renderings of one product differ).
PAPER_NAME_MAP = {
    "Facial cleanser": "Facial Cleanser",
    "Day cream": "Sun frost",
    "Evening cream": "Night Cream",
    "Night cream": "Night Cream",
    "Shampoo": "Shampoo",
    "Shower gel": "Shower Gel",
}
