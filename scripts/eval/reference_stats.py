#!/usr/bin/env python3
"""Reference statistics for Prism's human-evaluation scores.

Reads JSON on stdin: {"tables": [subjects x categories count tables], "pairs": [[a, b], ...]}
Writes JSON on stdout: {"kappa": [statsmodels fleiss_kappa per table, or null when undefined],
                        "ttest": [[t, p] of scipy.stats.ttest_rel(a, b), or null, per pair]}
"""
import json
import sys

import numpy as np
from scipy import stats
from statsmodels.stats.inter_rater import fleiss_kappa


def main() -> None:
    data = json.load(sys.stdin)
    kappas = []
    for t in data.get("tables", []):
        with np.errstate(invalid="ignore", divide="ignore"):
            k = float(fleiss_kappa(np.array(t), method="fleiss"))
        kappas.append(k if np.isfinite(k) else None)  # every rating in one category: undefined
    tests = []
    for a, b in data.get("pairs", []):
        r = stats.ttest_rel(a, b)
        t, p = float(r.statistic), float(r.pvalue)
        tests.append([t, p] if np.isfinite(t) else None)  # differences without variance: no test
    json.dump({"kappa": kappas, "ttest": tests}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
