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

# A sweep skips the jobs whose results are current (committed in results/: the study's seed 0 under global pruning;
# the authors' code path for seeds 0-2 and its decomposition for seed 0), unless a line before it trained their
# dense network again; so this is also the order of what remains.
# 1. The study's networks, seed by seed, on one machine: the lottery regime (the seed's dense network where its
#    checkpoint is not here, the unpruned control, rounds 1-3: ~3.5 h a seed), then global pruning on the same dense
#    network (~20 min a seed once it is here). A seed whose dense network was trained again is measured again under
#    both regimes; once all three seeds' dense maps are here, the seed-to-seed agreement baselines of every pair are
#    computed (agreement_baselines.json keeps them). Commit results/noise after each seed: checkpoints and maps stay
#    on the machine, and a result file made from lost checkpoints cannot be made again.
for seed in 0 1 2; do
  sweep --profile noise --seeds "$seed" --regimes lottery
  sweep --profile noise --seeds "$seed" --regimes global
done
# 2. What the authors' code did, seed by seed: their code path (D, A1, A2), the schedule alone (S), the mask held
#    (M1), the schedule annealed (C1), both (L1): ~1 h a network. A seed's networks hang on its dense network D (and
#    A2 on A1's weights), so a seed is best finished on one machine.
for seed in 0 1 2; do
  sweep --profile authors --seeds "$seed" \
    --regimes authors_code,authors_unpruned,authors_lottery,authors_masked,authors_annealed
done
# 3. The book: chapters 1-7 (reproduce --profile noise runs seed 0's global job first, current by now) and 8.
"$PY" -m prunelib reproduce --profile authors --data "$DATA"
"$PY" -m prunelib reproduce --profile noise --data "$DATA"
