"""Generated model cards and the measured results they render, one folder per zoo entry."""
