#!/usr/bin/env bash
# Regenerate ShapeWorld data and retrain the ShapeWorld classifier (npm run build:shapeworld).
#
#   native-models/shapeworld/train/build.sh [OUT_DIR]
#
# OUT_DIR defaults to native-models/shapeworld/models/classifier: the classifier model package
# (manifest.json, model.onnx, labels.txt, train_report.json, reference.json); with RAW_ONLY=1 the raw
# export shapeworld-cnn.onnx instead of a package. Data and the raw export go to a temporary folder
# (kept when KEEP_DATA=1). Settings below are the ones the committed model was trained with; each
# can be overridden from the environment. Needs Node 22 (node on PATH, runs .ts) and
# /usr/bin/python3 with torch and onnx (Debian: python3-torch python3-torchvision python3-onnx).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
OUT="${1:-$ROOT/native-models/shapeworld/models/classifier}"
PYTHON="${PYTHON:-/usr/bin/python3}"
NODE="${NODE:-node}"

TRAIN_COUNT="${TRAIN_COUNT:-12000}"
VAL_COUNT="${VAL_COUNT:-2000}"
TEST_COUNT="${TEST_COUNT:-4000}"
TRAIN_SEED="${TRAIN_SEED:-1}"
VAL_SEED="${VAL_SEED:-2}"
TEST_SEED="${TEST_SEED:-3}"
# Train split bias: share of images on a usual background, and the rate of every other factor.
TRAIN_USUAL_BG="${TRAIN_USUAL_BG:-0.97}"
TRAIN_FACTOR_RATE="${TRAIN_FACTOR_RATE:-0.12}"
EVAL_FACTOR_RATE="${EVAL_FACTOR_RATE:-0.1}"
EPOCHS="${EPOCHS:-15}"
TRAIN_TORCH_SEED="${TRAIN_TORCH_SEED:-0}"
THREADS="${THREADS:-2}"
CONCURRENCY="${CONCURRENCY:-2}"

DATA="$(mktemp -d "${TMPDIR:-/tmp}/shapeworld-data.XXXXXX")"
if [ "${KEEP_DATA:-0}" != "1" ]; then trap 'rm -rf "$DATA"' EXIT; fi

start=$(date +%s)
gen() {
  "$NODE" "$ROOT/native-models/shapeworld/generate-cli.ts" --quiet --concurrency "$CONCURRENCY" \
    --out "$DATA/$1" --split "$1" --count "$2" --seed "$3" "${@:4}" > "$DATA/$1.summary.json"
  echo "generated $1: $2 images ($(grep -o '"imagesPerMinute": [0-9.]*' "$DATA/$1.summary.json"))"
}
gen train "$TRAIN_COUNT" "$TRAIN_SEED" --usual-bg-rate "$TRAIN_USUAL_BG" --factor-rate "$TRAIN_FACTOR_RATE"
gen val "$VAL_COUNT" "$VAL_SEED" --usual-bg-rate balanced --factor-rate "$EVAL_FACTOR_RATE"
gen test "$TEST_COUNT" "$TEST_SEED" --usual-bg-rate balanced --factor-rate "$EVAL_FACTOR_RATE"
gen_end=$(date +%s)

RAW="$DATA/model"
"$PYTHON" "$ROOT/native-models/shapeworld/train/train_classifier.py" \
  --data "$DATA" --out "$RAW" --epochs "$EPOCHS" --seed "$TRAIN_TORCH_SEED" --threads "$THREADS" \
  --classes-json "$ROOT/resources/shapeworld/classes.json" ${TRAIN_ARGS:-}
end=$(date +%s)

"$PYTHON" - "$RAW/train_report.json" "$((gen_end - start))" "$((end - start))" <<'PY'
import json, sys
p, gen_s, total_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(p))
r['build_seconds'] = {'generate': gen_s, 'generate_and_train': total_s}
json.dump(r, open(p, 'w'), indent=1)
PY

# The raw export becomes a classifier model package (manifest.json + model.onnx + labels.txt +
# train_report.json) with the project's package writer; reference.json goes along for the tests.
PACKAGER="$ROOT/native-models/shapeworld/package-classifier.ts"
if [ -f "$PACKAGER" ] && [ "${RAW_ONLY:-0}" != "1" ]; then
  "$NODE" "$PACKAGER" --onnx "$RAW/shapeworld-cnn.onnx" --labels "$RAW/labels.txt" --report "$RAW/train_report.json" --out "$OUT"
  cp "$RAW/reference.json" "$OUT/reference.json"
else
  mkdir -p "$OUT"
  cp "$RAW/shapeworld-cnn.onnx" "$RAW/labels.txt" "$RAW/train_report.json" "$RAW/reference.json" "$OUT/"
fi
fin=$(date +%s)
echo "build:shapeworld done in $((fin - start)) s (data generation $((gen_end - start)) s); outputs in $OUT"
[ "${KEEP_DATA:-0}" = "1" ] && echo "data kept in $DATA"
exit 0
