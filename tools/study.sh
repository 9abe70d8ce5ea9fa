#!/usr/bin/env bash
# The study's units on this machine, one after another, each committed the moment it is measured: a lost machine
# costs at most the unit in training. Start it in the first minute of a working period, from a clean clone:
#
#   nohup tools/study.sh [HOURS] > logs/study.log 2>&1 &
#
# HOURS (default 2.75) is the compute time of the period. For each profile of PROFILES (default "authors noise": the
# order of the study's plan) it asks `sweep --next-unit --hours-left H` for the first unit of the one-machine order
# (prunelib/sweep/units.py) that can start here and fits in the hours left, runs it (`sweep --unit`), redraws the
# profile's summary and verdicts (`sweep --summary-only`) and commits results/<profile> alone with the CPU and the
# hours in the message; then the next, until no unit fits. `--next-unit` leaves out a unit that must make again a
# network the results say another kind of machine trained; one this machine cannot reproduce all the same
# (`sweep --unit` exits 4: an epoch's accuracy differs from the one the results recorded, so this CPU kind trains
# another network) is logged and skipped with the units that wait for it (`--next-unit --skip`). A unit that fails
# otherwise is logged, nothing of it is committed, and the script stops (run it again once the cause is fixed); where
# only the aggregation after it fails, its results are committed all the same (the message says so) and the script
# stops. It never pushes.
#
# Environment: PRUNELIB_DATA (the ImageNette folder), PY (the python with prunelib; default .venv/bin/python, made
# with `make .venv/.installed` where a clean clone has none), PROFILES, ALLOW_EMULATED=1 (train
# on a CPU without bf16 instructions all the same; `sweep --unit` refuses there otherwise), DRY_RUN=1 (list the units
# it would run, with their hours here, and run nothing).
set -uo pipefail
cd "$(dirname "$0")/.."
HOURS=${1:-2.75}
PY=${PY:-.venv/bin/python}
DATA=${PRUNELIB_DATA:-../shared/data/imagenette2-224}
PROFILES=${PROFILES:-authors noise}
export OMP_WAIT_POLICY=PASSIVE   # two cores: idle OpenMP threads yield instead of spinning
[ "${ALLOW_EMULATED:-0}" = 1 ] && export PRUNELIB_ALLOW_EMULATED_BF16=1
START=$(date +%s)
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
CPU=${CPU:-an unnamed CPU}

say() { echo "=== $(date -u +%FT%TZ) $*"; }
hours_since() { awk -v a="$1" -v b="$(date +%s)" 'BEGIN { printf "%.2f", (b - a) / 3600 }'; }
hours_left() { awk -v h="$HOURS" -v s="$(hours_since "$START")" 'BEGIN { l = h - s; printf "%.2f", (l > 0 ? l : 0) }'; }

if [[ ! $HOURS =~ ^[0-9]*\.?[0-9]+$ ]] || ! awk -v h="$HOURS" 'BEGIN { exit !(h > 0) }'; then
  echo "tools/study.sh: HOURS must be a number of hours > 0, got '$HOURS'" >&2
  exit 2
fi

if [ ! -x "$PY" ]; then  # a clean clone: the virtual environment first (minutes), so that it can start at once
  if [ "$PY" != .venv/bin/python ]; then
    echo "tools/study.sh: PY=$PY is not an executable python" >&2
    exit 2
  fi
  say "no .venv here: make .venv/.installed"
  make -s .venv/.installed || { echo "tools/study.sh: make .venv/.installed failed (above)" >&2; exit 2; }
fi

if [ "${DRY_RUN:-0}" = 1 ]; then
  left=$HOURS
  for profile in $PROFILES; do
    say "$profile: the units this machine would run in turn within $left h (hours here):"
    listing=$("$PY" -m prunelib sweep --profile "$profile" --next-unit --schedule --hours-left "$left") || continue
    echo "$listing" | sed 's/^/  /'
    left=$(echo "$listing" | awk -F'\t' -v l="$left" '{ l -= $2 } END { printf "%.2f", l }')
  done
  exit 0
fi

if [ -n "$(git status --porcelain -- results)" ]; then
  echo "tools/study.sh: results/ has changes git does not hold (git status -- results): commit or discard them" \
       "first, so that each unit's commit holds that unit's results alone" >&2
  exit 2
fi

if [ -z "$(git config user.name)" ] || [ -z "$(git config user.email)" ]; then
  echo "tools/study.sh: git has no user.name or user.email here, so no unit could be committed: set them first" \
       "(git config user.name ...; git config user.email ...)" >&2
  exit 2
fi

say "study on $CPU: $HOURS h of compute, profiles $PROFILES"
last=""
for profile in $PROFILES; do
  skipped=""
  while true; do
    left=$(hours_left)
    unit=$("$PY" -m prunelib sweep --profile "$profile" --next-unit --hours-left "$left" ${skipped:+--skip "$skipped"})
    code=$?
    if [ "$code" = 3 ]; then
      say "$profile: no unit to run in the $left h left (the line above says why)"
      break
    elif [ "$code" != 0 ]; then
      say "$profile: asking for the next unit failed (exit $code); stopping"
      exit "$code"
    fi
    if [ "$profile $unit" = "$last" ]; then
      say "$profile: unit $unit is still left after it was run and committed; stopping"
      exit 1
    fi
    last="$profile $unit"
    say "$profile: unit $unit starts ($left h left)"
    started=$(date +%s)
    "$PY" -m prunelib sweep --profile "$profile" --unit "$unit" --data "$DATA"
    code=$?
    if [ "$code" = 4 ] && [ -z "$(git status --porcelain -- "results/$profile")" ]; then
      say "$profile: unit $unit is not reproduced on this machine (the line above says where) after" \
          "$(hours_since "$started") h: nothing of it committed; skipping it and the units that wait for it"
      skipped=${skipped:+$skipped,}$unit
      continue
    elif [ "$code" != 0 ]; then
      say "$profile: unit $unit FAILED (exit $code) after $(hours_since "$started") h:" \
          "nothing of it committed; stopping"
      exit "$code"
    fi
    took=$(hours_since "$started")
    say "$profile: unit $unit measured in $took h; aggregating"
    message="Unit $unit (profile $profile): measured on $CPU, $took h"
    aggregated=1
    if ! "$PY" -m prunelib sweep --profile "$profile" --summary-only --data "$DATA"; then
      aggregated=0
      message="$message; the aggregation after it failed"
    fi
    if ! { git add -- "results/$profile" && git commit -q -m "$message"; }; then
      say "$profile: committing unit $unit FAILED; stopping"
      exit 1
    fi
    say "$profile: unit $unit committed as $(git rev-parse --short HEAD)"
    if [ "$aggregated" = 0 ]; then
      say "$profile: the aggregation after unit $unit FAILED (its results are committed); stopping"
      exit 1
    fi
  done
done
say "done: no unit left that fits in the $(hours_left) h left"
