"""The papers' algorithms as plain float64 NumPy loops, one array at a time.

Written from the papers, not from any library: each returns the trajectory
of a single parameter array under a fixed gradient sequence.
"""

from __future__ import annotations

import numpy as np


def adam(grads, x, lr, b1, b2, eps, *, eps_hat=False):
  """Kingma & Ba (2015), Algorithm 1; ``eps_hat``: the end of §2's faster form."""
  m = np.zeros_like(x); v = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    if eps_hat:
      alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
      x = x - alpha * m / (np.sqrt(v) + eps)
    else:
      m_hat = m / (1 - b1**t)
      v_hat = v / (1 - b2**t)
      x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
    path.append(x)
  return np.stack(path)


def adamax(grads, x, lr, b1, b2):
  """Kingma & Ba (2015), §7.1, Algorithm 2 (no eps)."""
  m = np.zeros_like(x); u = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g))
    x = x - (lr / (1 - b1**t)) * m / u
    path.append(x)
  return np.stack(path)


def amsgrad(grads, x, lr, b1, b2):
  """Reddi, Kale & Kumar (2018), Algorithm 2 with constant b1 and lr (no eps)."""
  m = np.zeros_like(x); v = np.zeros_like(x); v_hat = np.zeros_like(x); path = []
  for g in grads:
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    v_hat = np.maximum(v_hat, v)
    x = x - lr * m / np.sqrt(v_hat)
    path.append(x)
  return np.stack(path)


def nadam(grads, x, lr, b1, b2, eps, momentum_decay=None):
  """Dozat (2016), Algorithm 2, with the momentum schedule of §3 (or constant)."""

  def mu(t):
    return b1 if momentum_decay is None else b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))

  m = np.zeros_like(x); n = np.zeros_like(x); product = 1.0; path = []
  for t, g in enumerate(grads, start=1):
    product *= mu(t)
    g_hat = g / (1 - product)
    m = b1 * m + (1 - b1) * g
    m_hat = m / (1 - product * mu(t + 1))
    n = b2 * n + (1 - b2) * g**2
    n_hat = n / (1 - b2**t)
    m_bar = (1 - mu(t)) * g_hat + mu(t + 1) * m_hat
    x = x - lr * m_bar / (np.sqrt(n_hat) + eps)
    path.append(x)
  return np.stack(path)


def adadelta(grads, x, rho, eps):
  """Zeiler (2012), Algorithm 1."""
  eg = np.zeros_like(x); ex = np.zeros_like(x); path = []
  for g in grads:
    eg = rho * eg + (1 - rho) * g**2
    dx = -np.sqrt(ex + eps) / np.sqrt(eg + eps) * g
    ex = rho * ex + (1 - rho) * dx**2
    x = x + dx
    path.append(x)
  return np.stack(path)


def adagrad(grads, x, lr, delta):
  """Duchi, Hazan & Singer (2011), diagonal update: x - lr g / (delta + sqrt(sum g^2))."""
  s = np.zeros_like(x); path = []
  for g in grads:
    s = s + g**2
    x = x - lr * g / (delta + np.sqrt(s))
    path.append(x)
  return np.stack(path)


def rmsprop(grads, x, lr, decay, eps):
  """Hinton (2012), lecture 6e: divide by a running RMS (eps outside the root)."""
  ms = np.zeros_like(x); path = []
  for g in grads:
    ms = decay * ms + (1 - decay) * g**2
    x = x - lr * g / (np.sqrt(ms) + eps)
    path.append(x)
  return np.stack(path)


def rmsprop_graves(grads, x, lr, decay, momentum, eps):
  """Graves (2013), eqs. 38-41: centered RMSProp with momentum, eps inside."""
  n = np.zeros_like(x); gbar = np.zeros_like(x); delta = np.zeros_like(x); path = []
  for g in grads:
    n = decay * n + (1 - decay) * g**2
    gbar = decay * gbar + (1 - decay) * g
    delta = momentum * delta - lr * g / np.sqrt(n - gbar**2 + eps)
    x = x + delta
    path.append(x)
  return np.stack(path)


def radam(grads, x, lr, b1, b2, eps):
  """Liu et al. (2020), Algorithm 2, switching at rho_t >= 5 as implementations do (the paper: > 4)."""
  m = np.zeros_like(x); v = np.zeros_like(x); path = []
  rho_inf = 2 / (1 - b2) - 1
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    m_hat = m / (1 - b1**t)
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho >= 5:
      v_hat = np.sqrt(v / (1 - b2**t))
      r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
      x = x - lr * r * m_hat / (v_hat + eps)
    else:
      x = x - lr * m_hat
    path.append(x)
  return np.stack(path)
