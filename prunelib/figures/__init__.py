"""Figures of the book: each topic module has ``load_…`` (read a results file) and ``plot_…`` (plain data -> Figure)."""
