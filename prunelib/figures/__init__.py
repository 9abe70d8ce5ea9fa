"""Figures of the book: each topic module has ``load_…`` (read a results file) and ``plot_…`` (plain data -> Figure,
drawn for the book's text column by :mod:`.style`); :mod:`.captions` shows a figure numbered and captioned with the
function that drew it and the file it read; :mod:`.tables` formats every table the notebooks show."""
from . import style

style.apply()
