"""Sign and layer-wise methods as the papers write them: plain float64 NumPy loops.

Written from the papers' algorithms, not from any library. Each function
returns the trajectory of one parameter array (one layer: norms are taken
over the whole array) under a fixed gradient sequence.
"""

from __future__ import annotations

import numpy as np


def sign_sgd(grads, x, lr):
  """Bernstein et al. (2018), Algorithm 1 (signSGD): x <- x - lr sign(g)."""
  path = []
  for g in grads:
    x = x - lr * np.sign(g)
    path.append(x)
  return np.stack(path)


def signum(grads, x, lr, beta):
  """Bernstein et al. (2018), Algorithm 2 (Signum): m <- beta m + (1 - beta) g; x <- x - lr sign(m)."""
  m = np.zeros_like(x); path = []
  for g in grads:
    m = beta * m + (1 - beta) * g
    x = x - lr * np.sign(m)
    path.append(x)
  return np.stack(path)


def lion(grads, x, lr, b1, b2, weight_decay):
  """Chen et al. (2023), Algorithm 2 (Lion)."""
  m = np.zeros_like(x); path = []
  for g in grads:
    c = b1 * m + (1 - b1) * g
    x = x - lr * (np.sign(c) + weight_decay * x)
    m = b2 * m + (1 - b2) * g
    path.append(x)
  return np.stack(path)


def lars(grads, x, lr, momentum, weight_decay, eta):
  """You, Gitman & Ginsburg (2017), Algorithm 1, with the local rate of eq. 6:
  lambda = eta ||w|| / (||g|| + beta ||w||), constant global rate."""
  v = np.zeros_like(x); path = []
  for g in grads:
    local = eta * np.linalg.norm(x) / (np.linalg.norm(g) + weight_decay * np.linalg.norm(x))
    v = momentum * v + lr * local * (g + weight_decay * x)
    x = x - v
    path.append(x)
  return np.stack(path)


def lamb(grads, x, lr, b1, b2, eps, weight_decay):
  """You et al. (2020), Algorithm 2 (LAMB) with phi the identity."""
  m = np.zeros_like(x); v = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    r = m_hat / (np.sqrt(v_hat) + eps)
    step = r + weight_decay * x
    x = x - lr * np.linalg.norm(x) / np.linalg.norm(step) * step
    path.append(x)
  return np.stack(path)


def fromage(grads, x, lr):
  """Bernstein, Vahdat, Yue & Liu (2020), Algorithm 1 (Fromage)."""
  path = []
  for g in grads:
    x = (x - lr * np.linalg.norm(x) / np.linalg.norm(g) * g) / np.sqrt(1 + lr**2)
    path.append(x)
  return np.stack(path)


def novograd(grads, x, lr, b1, b2, weight_decay, eps=0.0):
  """Ginsburg et al. (2019), Algorithm 1 (NovoGrad): one second moment per layer,
  v_1 = ||g_1||^2, and a first moment that sums normalised gradients (no 1 - b1).
  eps is inside the root, at every step (at eps = 0 the first step is the
  paper's initialisation m_1 = g_1 / sqrt(v_1) + d w_1)."""
  path = []
  for t, g in enumerate(grads, start=1):
    square = np.sum(g**2)
    if t == 1:
      v = square
      m = g / np.sqrt(v + eps) + weight_decay * x
    else:
      v = b2 * v + (1 - b2) * square
      m = b1 * m + g / np.sqrt(v + eps) + weight_decay * x
    x = x - lr * m
    path.append(x)
  return np.stack(path)
