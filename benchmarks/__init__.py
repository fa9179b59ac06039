"""Speed and memory of adamx against Optax and torch.optim: ``python -m benchmarks.run``."""
