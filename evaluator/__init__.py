"""Framework-free scoring of image-classification models on a hidden test set.

Never imports Django or Celery: the web site and the workers call into this package.
"""
