#!/usr/bin/env bash
# The study's compute on one machine, in the order that answers its questions first. Every line is a sweep, and a
# sweep is resumable: it skips the jobs whose results are current and resumes a network a kill interrupted, so
# this script can be stopped at any moment and started again. Run it in the background:
#
#   nohup tools/study.sh > logs/study.log 2>&1 &
#
# Measured on 2 CPU cores (128 px, nothing else running): an epoch of the authors' recipe 95-180 s on an AMD EPYC
# (AVX512-BF16), so a 30-epoch network 45-75 min; 72-87 s on an Intel Xeon with AMX-BF16, so ~41 min a network (the job
# D + S of one seed, measured, 82 min); measuring a network on the fixed image set ~2.5 min. Each network is measured as
# soon as it is trained and its result written at once, so a stop loses at most the network in training; but a seed's
# networks hang on its dense network, so the sweeps go seed by seed, each in an order whose first networks answer
# something on their own. Checkpoints are the hours: where the clone may be replaced, link `checkpoints` to a disk
# outside it first (`ln -s ~/prunelib-checkpoints checkpoints`; results still name it checkpoints/...). On a cluster,
# run the same sweeps with --executor slurm instead (README, "Running the sweep").
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE   # two cores: idle OpenMP threads yield instead of spinning
PY=${PY:-.venv/bin/python}
DATA=${PRUNELIB_DATA:-../shared/data/imagenette2-224}

sweep() {
  echo "=== $(date -u +%FT%TZ) sweep $*"
  "$PY" -m prunelib sweep --executor local --data "$DATA" "$@" || echo "=== sweep $* did not finish; continuing"
}

# 1. The job the book's chapters 1-6 show: the study's seed 0 under global pruning, with its concepts and pictures
#    (~1.5 h). Its first result replaces the noise study's protocol-v1 results in the summary.
sweep --profile noise --seeds 0 --regimes global
# 2. What the authors' code did: their code path (D, A1, A2) and the schedule alone (S) per seed, ~50 min a
#    network. A seed's networks hang on its dense network D, and a D retrained elsewhere is another checkpoint
#    (on another kind of CPU, other weights): a seed's sweep is best finished on one machine (a partial result is
#    kept and re-measured, not lost, elsewhere).
#    The schedule alone (S) first: with D and A1 it completes a seed of the decomposition's first contrasts, while
#    A2 needs A1's weights (round 2 prunes them) and so A1 again where its checkpoint is gone.
sweep --profile authors --seeds 2 --regimes authors_unpruned,authors_code
sweep --profile authors --seeds 1 --regimes authors_unpruned,authors_code
# 3. The study's other networks, seed by seed: global pruning (~1.5 h a seed), then the lottery regime with its
#    control (~3 h a seed).
for seed in 1 2; do sweep --profile noise --seeds "$seed" --regimes global; done
for seed in 0 1 2; do sweep --profile noise --seeds "$seed" --regimes lottery; done
# 4. The rest of the decomposition, seed 0: its code path and the schedule alone (where not current), the mask
#    held, the schedule annealed, both (~1 h a network not current).
sweep --profile authors --seeds 0 --regimes authors_code,authors_unpruned,authors_lottery,authors_masked,authors_annealed
# 5. The book: chapters 1-7 (reproduce --profile noise runs seed 0's global job first, current by now) and 8.
"$PY" -m prunelib reproduce --profile authors --data "$DATA"
"$PY" -m prunelib reproduce --profile noise --data "$DATA"
