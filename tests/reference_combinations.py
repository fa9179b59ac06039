"""The papers' algorithms for the linear-combination methods, as plain float64 NumPy loops.

Written from the papers (and, for Adan, from the authors' released
implementation, which the paper's Algorithm 1 does not describe exactly),
not from Optax: each returns the trajectory of one parameter array under a
fixed gradient sequence. The hyperparameters keep each paper's convention.
"""

from __future__ import annotations

import math

import numpy as np


def ogda(grads, x, alpha, beta):
  """Mokhtari, Ozdaglar & Pattathil (2020), generalized OGDA:
  x_{k+1} = x_k - (alpha + beta) F(x_k) + beta F(x_{k-1}), started at x_{-1} = x_0
  (so the first step is -alpha F(x_0)). OGDA is alpha = beta = eta."""
  previous = None; path = []
  for g in grads:
    previous = g if previous is None else previous
    x = x - (alpha + beta) * g + beta * previous
    previous = g
    path.append(x)
  return np.stack(path)


def optimistic_adam(grads, x, lr, b1, b2, eps):
  """Daskalakis, Ilyas, Syrgkanis & Zeng (2018), Algorithm 1 (Optimistic Adam):
  w_t = w_{t-1} - 2 eta m̂_t / (sqrt(v̂_t) + eps) + eta m̂_{t-1} / (sqrt(v̂_{t-1}) + eps),
  with m_0 = v_0 = 0, so the t = 1 term of the previous step is 0 (m̂_0 = 0/0 is
  read as m_0 = 0)."""
  m = np.zeros_like(x); v = np.zeros_like(x); previous = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    current = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    x = x - 2 * lr * current + lr * previous
    previous = current
    path.append(x)
  return np.stack(path)


def adan(grads, x, lr, beta1, beta2, beta3, eps, weight_decay=0.0):
  """Xie et al. (2022), Algorithm 1, in the paper's convention (beta_i = 1 - b_i):

  m_0 = g_0, v_0 = 0, v_1 = g_1 - g_0, n_0 = g_0^2, then for k >= 1
    m_k = (1 - beta1) m_{k-1} + beta1 g_k
    v_k = (1 - beta2) v_{k-1} + beta2 (g_k - g_{k-1})          (k >= 2)
    n_k = (1 - beta3) n_{k-1} + beta3 [g_k + (1 - beta2)(g_k - g_{k-1})]^2
  and for every k: eta_k = lr / (sqrt(n_k) + eps),
    x_{k+1} = (x_k - eta_k * (m_k + (1 - beta2) v_k)) / (1 + weight_decay * lr).
  No bias correction.
  """
  path = []
  for k, g in enumerate(grads):
    if k == 0:
      m, v, n = g, np.zeros_like(g), g**2
    else:
      d = g - previous
      m = (1 - beta1) * m + beta1 * g
      v = d if k == 1 else (1 - beta2) * v + beta2 * d
      n = (1 - beta3) * n + beta3 * (g + (1 - beta2) * d) ** 2
    eta = lr / (np.sqrt(n) + eps)
    x = (x - eta * (m + (1 - beta2) * v)) / (1 + weight_decay * lr)
    previous = g
    path.append(x)
  return np.stack(path)


def adan_authors(grads, x, lr, b1, b2, b3, eps, weight_decay=0.0):
  """The authors' released Adan (github.com/sail-sg/Adan, ``no_prox=True``), as
  equations: zero-initialised moments in the code's convention (b_i = 1 -
  the paper's beta_i), each bias-corrected, the first difference 0, the
  difference weighted by b2, eps outside the corrected root, and the decay
  w <- (1 - lr * weight_decay) w before the step."""
  m = np.zeros_like(x); v = np.zeros_like(x); n = np.zeros_like(x); path = []
  previous = None
  for t, g in enumerate(grads, start=1):
    d = np.zeros_like(g) if previous is None else g - previous
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * d
    h = g + b2 * d
    n = b3 * n + (1 - b3) * h**2
    denominator = np.sqrt(n) / math.sqrt(1 - b3**t) + eps
    x = x * (1 - lr * weight_decay)
    x = x - lr * (m / (1 - b1**t) + b2 * v / (1 - b2**t)) / denominator
    previous = g
    path.append(x)
  return np.stack(path)


def ademamix_alpha(t, alpha, horizon):
  """Pagliardini et al. (2024), the alpha scheduler: min(t alpha / T_alpha, alpha)."""
  return min(t * alpha / horizon, alpha)


def ademamix_beta3(t, beta3, beta_start, horizon):
  """Pagliardini et al. (2024), the beta3 scheduler, linear in 1 / log(beta):
  min(exp(log(b_s) log(b_3) / ((1 - t/T) log(b_3) + (t/T) log(b_s))), b_3)."""
  s, e = math.log(beta_start), math.log(beta3)
  return min(math.exp(s * e / ((1 - t / horizon) * e + (t / horizon) * s)), beta3)


def ademamix(grads, x, lr, b1, b2, b3, alpha, eps, weight_decay=0.0, *,
             b3_at=None, alpha_at=None):
  """Pagliardini, Ablin & Grangier (2024), Algorithm 1 (AdEMAMix), t = 1, 2, ...:

  m1 = b1 m1 + (1 - b1) g;  m2 = b3(t) m2 + (1 - b3(t)) g;  nu = b2 nu + (1 - b2) g^2
  x <- x - lr ((m1 / (1 - b1^t) + alpha(t) m2) / (sqrt(nu / (1 - b2^t)) + eps) + wd x)

  ``b3_at(t)`` / ``alpha_at(t)``: the optional schedulers (default constant).
  """
  m1 = np.zeros_like(x); m2 = np.zeros_like(x); nu = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    beta3 = b3 if b3_at is None else b3_at(t)
    mix = alpha if alpha_at is None else alpha_at(t)
    m1 = b1 * m1 + (1 - b1) * g
    m2 = beta3 * m2 + (1 - beta3) * g
    nu = b2 * nu + (1 - b2) * g**2
    direction = (m1 / (1 - b1**t) + mix * m2) / (np.sqrt(nu / (1 - b2**t)) + eps)
    x = x - lr * (direction + weight_decay * x)
    path.append(x)
  return np.stack(path)


def simplified_ademamix(grads, x, lr, b1, b2, alpha, eps, weight_decay=0.0):
  """Morwani, Vyas, Zhang & Kakade (2025), Simplified AdEMAMix:

  m = b1 m + g;  nu = b2 nu + (1 - b2) g^2
  x <- x - lr ((m + alpha g) / (sqrt(nu / (1 - b2^t)) + eps) + wd x)
  """
  m = np.zeros_like(x); nu = np.zeros_like(x); path = []
  for t, g in enumerate(grads, start=1):
    m = b1 * m + g
    nu = b2 * nu + (1 - b2) * g**2
    x = x - lr * ((m + alpha * g) / (np.sqrt(nu / (1 - b2**t)) + eps) + weight_decay * x)
    path.append(x)
  return np.stack(path)
