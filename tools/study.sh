#!/usr/bin/env bash
# The study's compute on one machine, in the order that answers its questions first. Every line is a sweep, and a
# sweep is resumable: it skips the jobs whose results are current and resumes a network a kill interrupted, so
# this script can be stopped at any moment and started again. Run it in the background:
#
#   nohup tools/study.sh > logs/study.log 2>&1 &
#
# Measured on 2 CPU cores (AMD EPYC, 128 px, nothing else running): an epoch of the authors' recipe ~95 s, so a
# 30-epoch network ~48 min; measuring a network on the fixed image set ~2.5 min. Each network is measured as soon
# as it is trained and its result written at once, so a stop loses at most the network in training; but a seed's
# networks hang on its dense network, so the sweeps go seed by seed, each in an order whose first networks answer
# something on their own. Checkpoints are the hours: where the clone may be replaced, link `checkpoints` to a disk
# outside it first (`ln -s ~/prunelib-checkpoints checkpoints`; results still name it checkpoints/...). On a cluster, run the same sweeps with --executor slurm instead (README, "Running the
# sweep").
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE   # two cores: idle OpenMP threads yield instead of spinning
PY=${PY:-.venv/bin/python}
DATA=${PRUNELIB_DATA:-../shared/data/imagenette2-224}

sweep() {
  echo "=== $(date -u +%FT%TZ) sweep $*"
  "$PY" -m prunelib sweep --executor local --data "$DATA" "$@" || echo "=== sweep $* did not finish; continuing"
}

# 1. What the authors' code did: the schedule alone (D, S: ~1.7 h a seed), then their code path (A1, A2: ~1.7 h
#    more) on seeds 1 and 2; then seed 0 again, whose D and S were measured with a dense network that no longer
#    exists: authors_code retrains D, which outdates the authors_unpruned result, and the same sweep then runs it
#    again (D, A1, A2, S, ~3.3 h).
sweep --profile authors --seeds 1 --regimes authors_unpruned,authors_code
sweep --profile authors --seeds 2 --regimes authors_unpruned,authors_code
sweep --profile authors --seeds 0 --regimes authors_code,authors_unpruned
# 2. The study's networks, measured on the fixed image set, seed by seed: global pruning (~1.5 h a seed), then the
#    lottery regime with its control (~3 h a seed).
for seed in 0 1 2; do sweep --profile noise --seeds "$seed" --regimes global,lottery; done
# 3. The rest of the decomposition, seed 0: the mask held, the schedule annealed, both (~2.5 h).
sweep --profile authors --seeds 0 --regimes authors_lottery,authors_masked,authors_annealed
# 4. Each profile's chapter, drawn from the sweeps' results.
"$PY" -m prunelib reproduce --profile authors --data "$DATA"
"$PY" -m prunelib reproduce --profile noise --data "$DATA"
