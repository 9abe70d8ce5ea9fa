#!/usr/bin/env bash
# The study's compute on one machine, in the order that answers its questions first. Every line is a sweep, and a
# sweep is resumable: it skips the jobs whose results are current and resumes a network a kill interrupted, so
# this script can be stopped at any moment and started again. Run it in the background:
#
#   nohup tools/study.sh > logs/study.log 2>&1 &
#
# Estimated on 2 CPU cores (AMD EPYC, 128 px): a 30-epoch network of the authors' recipe ~60 min, an 18-epoch
# network of the study's recipe ~45 min, measuring a job ~20-30 min. On a cluster, run the same sweeps with
# --executor slurm instead (README, "Running the sweep").
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE   # two cores: idle OpenMP threads yield instead of spinning
PY=${PY:-.venv/bin/python}
DATA=${PRUNELIB_DATA:-../shared/data/imagenette2-224}

sweep() {
  echo "=== $(date -u +%FT%TZ) sweep $*"
  "$PY" -m prunelib sweep --executor local --data "$DATA" "$@" || echo "=== sweep $* did not finish; continuing"
}

# 1. What the authors' code did, seed 0: D, S, A1, A2 (~3 h), then D, S, A1, A2 of seeds 1 and 2 (~8 h).
sweep --profile authors --seeds 0 --regimes authors_unpruned,authors_code
sweep --profile authors --seeds 1,2 --regimes authors_unpruned,authors_code
# 2. The study's networks, measured on the fixed image set: global pruning and the lottery regime with its control
#    on 3 seeds (~12 h).
sweep --profile noise --seeds 0,1,2 --regimes global,lottery
# 3. The rest of the decomposition, seed 0: the mask held, the schedule annealed, both (~3 h).
sweep --profile authors --seeds 0 --regimes authors_lottery,authors_masked,authors_annealed
# 4. Each profile's chapter, drawn from the sweeps' results.
"$PY" -m prunelib reproduce --profile authors --data "$DATA"
"$PY" -m prunelib reproduce --profile noise --data "$DATA"
