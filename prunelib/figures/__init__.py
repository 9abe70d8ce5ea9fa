"""Figures of the book: each topic module has ``load_…`` (read a results file) and ``plot_…`` (plain data -> Figure,
captioned by :mod:`.captions` with the function that drew it and the file it read); :mod:`.tables` formats every
table the notebooks show."""
