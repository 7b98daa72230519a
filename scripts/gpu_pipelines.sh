#!/usr/bin/env bash
# gpu_pipelines.sh PIPELINE [PIPELINE ...]
#
# Trains several models side by side on one CUDA GPU, within a deadline, and packs the model
# folders that finished into $OUT (the folder whose files come back from a lent GPU machine).
# Each PIPELINE is NAME=CONFIG[,CONFIG...][@DATASET]: the configs run one after the other
# (`segue train --device cuda`), the first into runs/gpu/NAME-1, the next into runs/gpu/NAME-2 and
# so on, so a GAN config whose [train] init is "runs/gpu/NAME-1/model" starts from the CVAE the
# pipeline just trained. Only the last stage's model folder is packed.
#
#   DEADLINE=515 scripts/gpu_pipelines.sh \
#       c1=runs/gpu/cfg/c1-cvae.toml,runs/gpu/cfg/c1-gan.toml \
#       g=runs/gpu/cfg/g-cvae.toml,runs/gpu/cfg/g-gan.toml@runs/general-data
#
# Environment: OUT (default runs/gpu/out), DEVICE (default cuda; cpu to try the script here), PYTHON (default python3), DEADLINE in seconds from the start (default 515: what
# is still training then is stopped, and its pipeline packs nothing), WHEELS (default
# runs/gpu/whl: wheels installed with --no-deps into /tmp/site first, for packages the machine
# lacks, e.g. symusic; fetch them here with `pip download --no-deps --only-binary=:all:
# --python-version 3.12 --platform manylinux_2_28_x86_64 symusic pySmartDL platformdirs`).
#
# The packed folders are tarred and split into 16,000,000-byte parts, $OUT/models.tar.*; bring
# them back with `cat models.tar.* | tar -xf - -C runs/gpu-back`. Each pipeline's log, with the
# seconds each stage took, is $OUT/NAME.log. Measured on an NVIDIA H200 (2026-12-04): three
# 256-channel chorale or general pipelines side by side run about 27 CVAE steps/s each and
# 7-10 GAN steps/s each; one process alone about 37 CVAE steps/s.
set -uo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 NAME=CONFIG[,CONFIG...][@DATASET] ..." >&2
  exit 2
fi
START=$(date +%s)
DEADLINE=${DEADLINE:-515}
OUT=${OUT:-runs/gpu/out}
WHEELS=${WHEELS:-runs/gpu/whl}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
if compgen -G "$WHEELS/*.whl" >/dev/null; then
  pip install -q --no-deps --target /tmp/site "$WHEELS"/*.whl >/dev/null 2>&1
  export PYTHONPATH=/tmp/site:src
else
  export PYTHONPATH=src
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
  "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } > "$OUT/gpu.txt" 2>&1

pipeline() {  # NAME CONFIGS DATASET
  local name=$1 data=$3 stage=0 config t0 t1
  local -a configs
  IFS=, read -r -a configs <<< "$2"
  for config in "${configs[@]}"; do
    stage=$((stage + 1))
    t0=$(date +%s)
    if ! "$PYTHON" -m segue train --config "$config" --out "runs/gpu/$name-$stage" --device "${DEVICE:-cuda}" --quiet \
        ${data:+--data "$data"} >> "$OUT/$name.log" 2>&1; then
      echo "$config: failed or stopped" >> "$OUT/$name.log"
      return 1
    fi
    t1=$(date +%s)
    echo "$config: $((t1 - t0)) s" >> "$OUT/$name.log"
  done
  echo "$stage" > "runs/gpu/$name.done"
}

names=()
for spec in "$@"; do
  name=${spec%%=*}
  rest=${spec#*=}
  data=""
  if [[ $rest == *@* ]]; then
    data=${rest#*@}
    rest=${rest%@*}
  fi
  names+=("$name")
  rm -f "runs/gpu/$name.done"
  pipeline "$name" "$rest" "$data" &
done

while [ $(($(date +%s) - START)) -lt "$DEADLINE" ] && [ -n "$(jobs -r)" ]; do
  sleep 5
done
for pid in $(jobs -rp); do  # the trainings of this script's pipelines, not another `segue train` here
  pkill -P "$pid" 2>/dev/null
done
wait  # each stopped pipeline logs its stage as stopped
echo "elapsed $(($(date +%s) - START)) s" >> "$OUT/gpu.txt"

PACK=$(mktemp -d)
for name in "${names[@]}"; do
  [ -f "runs/gpu/$name.done" ] || continue
  last="runs/gpu/$name-$(cat "runs/gpu/$name.done")"
  mkdir -p "$PACK/$name"
  cp -r "$last/model" "$PACK/$name/"
  cp "$last/metrics.csv" "$last/config.toml" "$PACK/$name/" 2>/dev/null
done
tar -C "$PACK" -cf - . | split -b 16000000 - "$OUT/models.tar."
rm -rf "$PACK"
ls -l "$OUT" >> "$OUT/gpu.txt"
