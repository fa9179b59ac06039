"""The second-moment variants as plain float64 NumPy loops, from their papers.

Written from each paper's algorithm (and, for ACProp, from its authors'
code), not from any JAX library: each returns the trajectory of one
parameter array under a fixed gradient sequence.
"""

from __future__ import annotations

import numpy as np


def adabelief(grads, x, lr, b1, b2, eps):
  """Zhuang et al. (2020), Algorithm 2 (one eps, inside s and outside the root)."""
  m = np.zeros_like(x); s = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    s = b2 * s + (1 - b2) * (g - m) ** 2 + eps
    m_hat = m / (1 - b1**t)
    s_hat = s / (1 - b2**t)
    x = x - lr * m_hat / (np.sqrt(s_hat) + eps)
    path.append(x)
  return np.stack(path)


def yogi(grads, x, lr, b1, b2, eps):
  """Zaheer et al. (2018), Algorithm 2: m_0 = v_0 = 0, no bias correction."""
  m = np.zeros_like(x); v = np.zeros_like(x); path = []
  for g in grads:
    m = b1 * m + (1 - b1) * g
    v = v - (1 - b2) * np.sign(v - g**2) * g**2
    x = x - lr * m / (np.sqrt(v) + eps)
    path.append(x)
  return np.stack(path)


def adamaxw(grads, x, lr, b1, b2, weight_decay):
  """Kingma & Ba (2015), §7.1 Algorithm 2 (no eps), with the decoupled decay of
  Loshchilov & Hutter (2019): x <- x - lr (step + weight_decay x)."""
  m = np.zeros_like(x); u = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g))
    x = x - lr * (m / ((1 - b1**t) * u) + weight_decay * x)
    path.append(x)
  return np.stack(path)


def acprop(grads, x, lr, b1, b2, eps):
  """ACProp as its authors run it (Zhuang et al., 2021; github.com/juntang-zhuang/
  ACProp-Optimizer, optimizers/ACProp.py with main.py's settings: no rectification,
  the gradient as numerator, eps added to the stored s in place before each use).

  The first step is plain SGD; later steps divide g_t by the s of the previous
  step, which centres the gradient on the mean *after* it (g_t - m_t).
  """
  m = np.zeros_like(x); s = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    if t == 1:
      x = x - lr * m / (1 - b1)
    else:
      s = s + eps
      x = x - lr * g / (np.sqrt(s) / np.sqrt(1 - b2 ** (t - 1)) + eps)
    s = b2 * s + (1 - b2) * (g - m) ** 2
    path.append(x)
  return np.stack(path)


def adopt(grads, x, lr, b1, b2, eps, *, clipping=True):
  """Taniguchi et al. (2024), Algorithm 2: v_0 = g_0^2 (no step), then
  m_t = b1 m + (1 - b1) clip(g_t / max(sqrt(v_{t-1}), eps), t^(1/4)),
  x_t = x_{t-1} - lr m_t, v_t = b2 v + (1 - b2) g_t^2."""
  v = grads[0] ** 2; m = np.zeros_like(x); path = [x]
  for t, g in enumerate(grads[1:], start=1):
    normalised = g / np.maximum(np.sqrt(v), eps)
    if clipping:
      normalised = np.clip(normalised, -t**0.25, t**0.25)
    m = b1 * m + (1 - b1) * normalised
    x = x - lr * m
    v = b2 * v + (1 - b2) * g**2
    path.append(x)
  return np.stack(path)


def madgrad(grads, x, gamma, c, eps):
  """Defazio & Jelassi (2021), Algorithm 1, with step sizes gamma_k and
  averaging weight c (the paper's c_{k+1}; momentum = 1 - c)."""
  x0 = x; s = np.zeros_like(x); nu = np.zeros_like(x); path = []
  for k, g in enumerate(grads):
    lam = gamma * np.sqrt(k + 1)
    s = s + lam * g
    nu = nu + lam * g**2
    z = x0 - s / (np.cbrt(nu) + eps)
    x = (1 - c) * x + c * z
    path.append(x)
  return np.stack(path)


def sophia(grads, x, lr, b1, b2, eps, gamma, rho, k, weight_decay, estimate):
  """Liu et al. (2023), Algorithm 3: h refreshed when t mod k = 1 from
  ``estimate(g_t)``, then decoupled decay and the clipped step
  clip(m_t / max(gamma h_t, eps), rho)."""
  m = np.zeros_like(x); h = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    if t % k == 1 % k:
      h = b2 * h + (1 - b2) * estimate(g)
    x = x - lr * weight_decay * x
    x = x - lr * np.clip(m / np.maximum(gamma * h, eps), -rho, rho)
    path.append(x)
  return np.stack(path)
