"""What the book's notebooks call, one module per chapter that needs more than a figure: the chapters' job's
results as the figures read them (:mod:`.study`), the comparison with the paper and its verdicts
(:mod:`.comparison`, :mod:`.verdict_text`) and the live explorer (:mod:`.explorer_live`).

The top layer: it reads what :mod:`prunelib.sweep` wrote and draws with :mod:`prunelib.figures`; it trains and
measures nothing, and nothing below imports it.
"""
