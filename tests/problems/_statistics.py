"""Statistical checks shared by the problem tests (stated confidence: 4 standard errors)."""

import math

import numpy as np


def chi_square_checks(ratios):
    """Per entry: mean 1 and variance 2 (chi-square, one degree of freedom), each within 4
    standard errors estimated from the draws (axis 0)."""
    n = ratios.shape[0]
    mean = ratios.mean(axis=0)
    mean_error = ratios.std(axis=0, ddof=1) / math.sqrt(n)
    assert np.all(np.abs(mean - 1) < 4 * mean_error), mean
    centred = (ratios - mean) ** 2
    variance = centred.mean(axis=0) * n / (n - 1)
    variance_error = centred.std(axis=0, ddof=1) / math.sqrt(n)
    assert np.all(np.abs(variance - 2) < 4 * variance_error), variance
    assert np.all(mean_error < 0.05) and np.all(variance_error < 0.4)
