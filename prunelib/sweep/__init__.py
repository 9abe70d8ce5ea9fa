"""Sweeps of the study: seeds x regimes as jobs (:mod:`.job`), run by an executor, aggregated into one table."""
