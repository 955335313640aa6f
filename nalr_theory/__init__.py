"""nalr_theory: noise-adaptive layerwise learning rates in LMO-based optimization.

Layers of the package, each depending only on those before it::

    geometry -> optimizers, problems -> engine -> experiments -> cli
    theory depends only on geometry's constants.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
