"""Internal core: transform type, hyperparameter handling, shape checks."""
