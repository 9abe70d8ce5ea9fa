"""What a sweep's job computes on a network, and the files it writes them into, one module per measurement.

- :mod:`.common`: the validation images a job explains, and when a network is near chance;
- :mod:`.faithfulness`: Gini, ROAD and AOPC of each saliency method's maps;
- :mod:`.saliency_maps`: the saliency pictures of a few images at every level (``maps.npz``) and their reader;
- :mod:`.concepts`: CRAFT concepts of a class and their gallery files;
- :mod:`.explorer_frames`: the explorer's frames (predictions on images with pixels removed), saved in the form
  of :mod:`.frames`, its pictures drawn by :mod:`.drawing` and encoded by :mod:`.encoding`.

This layer sits below :mod:`prunelib.sweep` (which runs it) and :mod:`prunelib.figures` (which draws what it
wrote); it imports neither, nor :mod:`prunelib.chapters`.
"""
