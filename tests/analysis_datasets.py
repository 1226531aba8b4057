"""Published data sets used to pin the meta-analysis library to R metafor.

Each data set is copied from the R package that ships it (metafor / metadat); the row order is the
package's order so that per-study expectations line up.
"""

from __future__ import annotations

import numpy as np

# dat.bcg (Colditz et al., 1994): BCG vaccine trials; tpos/tneg = TB cases / non-cases vaccinated,
# cpos/cneg = the same unvaccinated. metafor/metadat `dat.bcg`.
BCG_LABELS = [
    "Aronson 1948",
    "Ferguson & Simes 1949",
    "Rosenthal 1960",
    "Hart & Sutherland 1977",
    "Frimodt-Moller 1973",
    "Stein & Aronson 1953",
    "Vandiviere 1973",
    "TPT Madras 1980",
    "Coetzee & Berjak 1968",
    "Rosenthal 1961",
    "Comstock 1974",
    "Comstock & Webster 1969",
    "Comstock 1976",
]
BCG_TPOS = np.array([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27], dtype=float)
BCG_TNEG = np.array(
    [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886], dtype=float
)
BCG_CPOS = np.array([11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29], dtype=float)
BCG_CNEG = np.array(
    [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825], dtype=float
)
BCG_ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
BCG_ALLOC = [
    "random",
    "systematic",
    "random",
    "random",
    "alternate",
    "alternate",
    "random",
    "random",
    "random",
    "systematic",
    "systematic",
    "systematic",
    "systematic",
]

# dat.normand1999 (Normand, 1999, Stat Med 18:321-359, Table VIII): length of hospital stay,
# specialist stroke care (arm 1) vs routine care (arm 2). metafor/metadat `dat.normand1999`.
NORMAND_LABELS = [
    "Edinburgh",
    "Orpington-Mild",
    "Orpington-Moderate",
    "Orpington-Severe",
    "Montreal-Home",
    "Montreal-Transfer",
    "Newcastle",
    "Umea",
    "Uppsala",
]
NORMAND_N1 = np.array([155, 31, 75, 18, 8, 57, 34, 110, 60], dtype=float)
NORMAND_M1 = np.array([55, 27, 64, 66, 14, 19, 52, 21, 30], dtype=float)
NORMAND_SD1 = np.array([47, 7, 17, 20, 8, 7, 45, 16, 27], dtype=float)
NORMAND_N2 = np.array([156, 32, 71, 18, 13, 52, 33, 183, 52], dtype=float)
NORMAND_M2 = np.array([75, 29, 119, 137, 18, 18, 41, 31, 23], dtype=float)
NORMAND_SD2 = np.array([64, 4, 29, 48, 11, 4, 34, 27, 20], dtype=float)

# dat.egger2001 (Egger, Davey Smith & Altman 2001, magnesium after myocardial infarction):
# ai/n1i = deaths/patients on magnesium, ci/n2i = deaths/patients on control.
EGGER_LABELS = [
    "Morton 1984",
    "Rasmussen 1986",
    "Smith 1986",
    "Abraham 1987",
    "Feldstedt 1988",
    "Shechter 1989",
    "Ceremuzynski 1989",
    "Bertschat 1989",
    "Singh 1990",
    "Pereira 1990",
    "Shechter 1991",
    "Golf 1991",
    "Thogersen 1991",
    "LIMIT-2 1992",
    "Shechter 1995",
    "ISIS-4 1995",
]
EGGER_AI = np.array([1, 9, 2, 1, 10, 1, 1, 0, 6, 1, 2, 5, 4, 90, 4, 2216], dtype=float)
EGGER_N1 = np.array(
    [40, 135, 200, 48, 150, 59, 25, 22, 76, 27, 89, 23, 130, 1159, 107, 29011], dtype=float
)
EGGER_CI = np.array([2, 23, 7, 1, 8, 9, 3, 1, 11, 7, 12, 13, 8, 118, 17, 2103], dtype=float)
EGGER_N2 = np.array(
    [36, 135, 200, 46, 148, 56, 23, 21, 75, 27, 80, 33, 122, 1157, 108, 29039], dtype=float
)
