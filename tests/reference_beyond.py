"""MARS, Adam-mini, LaProp and the cautious optimizers as plain float64 NumPy loops.

Written from the papers' algorithms (and, where the paper leaves a detail
open, the authors' public code, named at each loop), not from any library:
each returns the trajectory of one parameter array under a fixed gradient
sequence. Norms and block means are over that one array, as the authors'
code takes them per parameter tensor.
"""

from __future__ import annotations

import numpy as np


def mars(grads, x, lr, b1, b2, eps, gamma, wd=0.0, *, variant="adamw", zero_g0=True):
  """Yuan et al. (2024), MARS-AdamW / MARS-Lion, approximate form (MARS-approx).

  c_t = g_t + gamma b1/(1-b1) (g_t - g_{t-1}); Clip(c, 1) = c/||c|| if ||c|| > 1;
  m = b1 m + (1-b1) c~; AdamW: v = b2 v + (1-b2) c~^2, x -= lr (m_hat/(sqrt(v_hat)+eps) + wd x);
  Lion: x -= lr (sign(m) + wd x). g_0 = 0 (the authors' code) or g_1 (``zero_g0=False``).
  """
  m = np.zeros_like(x); v = np.zeros_like(x); previous = None; path = []
  for t, g in enumerate(grads, start=1):
    if previous is None:
      previous = np.zeros_like(g) if zero_g0 else g
    c = g + gamma * (b1 / (1 - b1)) * (g - previous)
    norm = np.sqrt(np.sum(c * c))
    if norm > 1:
      c = c / norm
    m = b1 * m + (1 - b1) * c
    if variant == "adamw":
      v = b2 * v + (1 - b2) * c * c
      m_hat = m / (1 - b1**t)
      v_hat = v / (1 - b2**t)
      direction = m_hat / (np.sqrt(v_hat) + eps)
    else:
      direction = np.sign(m)
    x = x - lr * (direction + wd * x)
    previous = g
    path.append(x)
  return np.stack(path)


def adam_mini(grads, x, lr, b1, b2, eps, wd=0.0, kept_axes=()):
  """Zhang et al. (2024), Algorithm 1: Adam with v the EMA of the block mean of g^2.

  Blocks: one per index of ``kept_axes`` (the mean runs over the other axes);
  decay as the authors' code, x <- x (1 - lr wd) before the step.
  """
  averaged = tuple(i for i in range(np.ndim(x)) if i not in kept_axes)
  m = np.zeros_like(x); v = np.zeros(np.shape(np.mean(x, axis=averaged, keepdims=True)))
  path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * np.mean(g * g, axis=averaged, keepdims=True)
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    x = x - lr * (m_hat / (np.sqrt(v_hat) + eps) + wd * x)
    path.append(x)
  return np.stack(path)


def laprop(grads, x, lr, b1, b2, eps, wd=0.0):
  """Ziyin, Wang & Ueda (2020), Algorithm 1 (mu = b1, nu = b2), with AdamW's decay.

  n = nu n + (1-nu) g^2;  m = mu m + (1-mu) g / (sqrt(n / c_n) + eps);
  x -= lr (m / c_m + wd x), c_n = 1 - nu^t, c_m = 1 - mu^t.
  """
  m = np.zeros_like(x); n = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    n = b2 * n + (1 - b2) * g * g
    m = b1 * m + (1 - b1) * g / (np.sqrt(n / (1 - b2**t)) + eps)
    x = x - lr * (m / (1 - b1**t) + wd * x)
    path.append(x)
  return np.stack(path)


def _caution(u, g, xi):
  """Liang et al. (2024): u * phi / (mean(phi) + xi), phi = 1[u g > 0]; xi None: d/(nnz+1)."""
  phi = (u * g > 0).astype(np.float64)
  if xi is None:
    return u * phi * (phi.size / (phi.sum() + 1))
  total = phi.mean() + xi
  return u * phi / total if total > 0 else np.zeros_like(u)


def cautious_adamw(grads, x, lr, b1, b2, eps, wd=0.0, xi=None):
  """C-AdamW: the AdamW direction m_hat/(sqrt(v_hat)+eps), masked; decay neither masked nor rescaled."""
  m = np.zeros_like(x); v = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    u = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    x = x - lr * (_caution(u, g, xi) + wd * x)
    path.append(x)
  return np.stack(path)


def cautious_sgd_momentum(grads, x, lr, mu, xi=None):
  """C-SGD with heavy-ball momentum: b = mu b + g, x -= lr caution(b, g)."""
  b = np.zeros_like(x); path = []
  for g in grads:
    b = mu * b + g
    x = x - lr * _caution(b, g, xi)
    path.append(x)
  return np.stack(path)


def cautious_lion(grads, x, lr, b1, b2, wd=0.0, xi=None):
  """C-Lion: u = sign(b1 m + (1-b1) g) masked, then m = b2 m + (1-b2) g (Chen et al., 2023, Alg. 2)."""
  m = np.zeros_like(x); path = []
  for g in grads:
    u = np.sign(b1 * m + (1 - b1) * g)
    x = x - lr * (_caution(u, g, xi) + wd * x)
    m = b2 * m + (1 - b2) * g
    path.append(x)
  return np.stack(path)
