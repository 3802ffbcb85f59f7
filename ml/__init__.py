"""Machine-learning code of Etiquetado: dataset import, MLP training and inference.

This package does not import Django or Celery. Its modules import TensorFlow and
Keras only inside the functions that need them, because the Celery parent process
imports this package before forking workers and TensorFlow is not fork-safe.
"""
