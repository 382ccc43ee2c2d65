"""Evaluation: the shared harness, statistics, results files, test-time scaling and budget forcing."""
