"""The papers' factored, cover and sign-step algorithms as plain float64 NumPy loops.

Written from the papers, not from any library: each returns the trajectory
of one parameter array (steps x entries) under a fixed gradient sequence.
"""

from __future__ import annotations

import itertools

import numpy as np


def _rms(x):
  return np.sqrt(np.mean(x**2))


def adafactor(grads, x, *, rho=lambda t: min(1e-2, 1 / np.sqrt(t)), c=0.8, eps1=1e-30,
              eps2=1e-3, d=1.0):
  """Shazeer & Stern (2018): Algorithm 4 for a matrix (factored row and
  column *sums*), Algorithm 5 for any other array, §5's update clipping
  (threshold ``d``) and §8's relative step ``alpha_t = max(eps2, RMS(X)) rho_t``,
  with ``beta2_t = 1 - t^(-c)``."""
  matrix = x.ndim == 2
  n, m = x.shape if matrix else (None, None)
  R = np.zeros(n) if matrix else None
  C = np.zeros(m) if matrix else None
  V = np.zeros_like(x); path = []
  for t, G in enumerate(grads, start=1):
    beta = 1 - t ** (-c)
    alpha = max(eps2, _rms(x)) * rho(t)
    if matrix:
      R = beta * R + (1 - beta) * (G**2 + eps1) @ np.ones(m)
      C = beta * C + (1 - beta) * np.ones(n) @ (G**2 + eps1)
      V_hat = np.outer(R, C) / (np.ones(n) @ R)
    else:
      V = beta * V + (1 - beta) * (G**2 + eps1)
      V_hat = V
    U = G / np.sqrt(V_hat)
    U_hat = U / max(1.0, _rms(U) / d)
    x = x - alpha * U_hat
    path.append(np.reshape(x, -1))
  return np.stack(path)


def _cover(shape):
  """The cover of an array by its axis slices: (axis, index) -> the entries in it.
  A vector (or scalar) is covered by its entries (singletons)."""
  entries = list(np.ndindex(*shape))
  if len(shape) < 2:
    return {(0, k): [i] for k, i in enumerate(entries)}
  return {(a, n): [i for i in entries if i[a] == n]
          for a in range(len(shape)) for n in range(shape[a])}


def sm3(grads, x, lr):
  """Anil, Gupta, Koren & Singer (2019), SM3-II, entry by entry, with 0/0 = 0."""
  cover = _cover(x.shape)
  sets_of = {i: [r for r, members in cover.items() if i in members] for i in np.ndindex(*x.shape)}
  mu = dict.fromkeys(cover, 0.0)
  x = x.copy(); path = []
  for g in grads:
    new_mu = dict.fromkeys(cover, 0.0)
    step = np.zeros_like(x)
    for i, sets in sets_of.items():
      nu = min(mu[r] for r in sets) + g[i] ** 2
      step[i] = 0.0 if nu == 0 else lr * g[i] / np.sqrt(nu)
      for r in sets:
        new_mu[r] = max(new_mu[r], nu)
    x = x - step
    mu = new_mu
    path.append(np.reshape(x, -1))
  return np.stack(path)


def irprop_minus(grads, x, delta0, eta_minus, eta_plus, delta_min, delta_max):
  """Igel & Hüsken (2000), iRprop⁻: Riedmiller & Braun's (1993) Rprop without
  weight backtracking; after a sign change the stored derivative is set to 0."""
  delta = np.full_like(x, delta0); previous = np.zeros_like(x); path = []
  for g in grads:
    g = np.array(g, dtype=float)
    product = previous * g
    grow, shrink = product > 0, product < 0
    delta = np.where(grow, np.minimum(delta * eta_plus, delta_max), delta)
    delta = np.where(shrink, np.maximum(delta * eta_minus, delta_min), delta)
    g[shrink] = 0.0
    x = x - np.sign(g) * delta
    previous = g
    path.append(np.reshape(x, -1))
  return np.stack(path)


def asgd(grads, x, eta0, lambd, alpha, t0):
  """Bottou (2012), "Stochastic gradient descent tricks", §5.3: averaged SGD
  for an L2-regularised loss (``lambd``), ``eta_t = eta0 (1 + lambd eta0 t)^-alpha``
  (the paper's alpha = 3/4) and ``mu_t = 1 / max(1, t - t0)``, t = 0, 1, ...
  Returns (iterates, averages)."""
  average = np.zeros_like(x); path, averages = [], []
  for t, g in zip(itertools.count(), grads):
    eta = eta0 * (1 + lambd * eta0 * t) ** (-alpha)
    mu = 1 / max(1, t - t0)
    x = (1 - lambd * eta) * x - eta * g
    average = average + mu * (x - average)
    path.append(np.reshape(x, -1)); averages.append(np.reshape(average, -1))
  return np.stack(path), np.stack(averages)
