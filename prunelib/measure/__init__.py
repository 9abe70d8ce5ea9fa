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

#: the seed of the bootstrap intervals, ROAD's imputation noise, the random maps (with each image's index), the
#: images a concept or picture shows: one seed for every image-level draw of a measurement
IMAGE_SEED = 0
#: the version of the measurement protocol (2: every network on the profile's fixed image set,
#: :mod:`prunelib.image_set`): part of a job's recorded settings, bumped by a change that alters what is measured
PROTOCOL = 2
