# The README's usage example, executed by tests/test_docs.py.
import numpy as np
from nalr_theory import optimizers, problems, theory
from nalr_theory.geometry import Layer

# 1. an optimizer on your own NumPy arrays: one Layer per weight matrix
layers = [Layer("w1", (32, 16), "spectral"), Layer("w2", (8, 32), "spectral")]
rng = np.random.default_rng(0)
params = {"w1": rng.normal(size=(32, 16)), "w2": rng.normal(size=(8, 32))}
opt = optimizers.lanton(layers, lr=0.02, estimator="consecutive")
state = opt.init(params)
for step in range(3):
    grads = {name: value + 0.1 * rng.normal(size=value.shape) for name, value in params.items()}  # your gradients
    updates, state = opt.step(state, grads)
    params = {name: params[name] + updates[name] for name in params}

# 2. a problem with certified constants, and the engine over seeds
from nalr_theory import engine
problem = problems.get("sigmoidal_hetero")
result = engine.simulate(problem, optimizers.scion(problem.layers, lr=0.05), T=256, seeds=range(4))
print(result.average["plain"])            # M(T) per seed: average stationarity over t = 1..T

# 3. a bound: leading coefficients, the tuned schedule and the bound at T = 1024
c = theory.leading_coefficients(Delta=1.0, L=[1.0, 2.0], rho=[4.0, 4.0], sigma=[0.1, 0.2])
schedule = theory.tuned_schedule(1024, c.A, c.B, c.C)
print(theory.bound(1024, schedule.eta, schedule.beta, Delta=1.0, L=[1.0, 2.0], rho=[4.0, 4.0],
                   sigma=[0.1, 0.2], g1=0.0))
