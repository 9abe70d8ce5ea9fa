"""The computations behind the book's sections, one module per section; each writes its results as files.

A notebook cell calls ``run_…`` once, then ``prunelib.figures.<topic>.load_…`` and ``plot_…``; the reproduction
runner executes the same notebooks, so the book and a batch run share every line of code.
"""
