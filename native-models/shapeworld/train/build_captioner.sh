#!/usr/bin/env bash
# Regenerate ShapeWorld caption data and retrain the ShapeWorld captioner.
#
#   native-models/shapeworld/train/build_captioner.sh [OUT_DIR]
#
# OUT_DIR defaults to native-models/shapeworld/models/captioner: an image-to-text model in the
# Hugging Face Optimum ONNX layout of a VisionEncoderDecoder export (encoder_model.onnx,
# decoder_model.onnx, config.json, generation_config.json, preprocessor_config.json, vocab.json +
# merges.txt in GPT-2's byte-level BPE format, special_tokens_map.json, tokenizer_config.json) plus
# reference.json (torch greedy captions of the first val images) and train_report.json (held-out
# quality on val, timings). native-models/captioner opens it like any such export.
#
# Training data: the train split with balanced backgrounds (seed 1) and its `long` captions;
# held-out measure: the val split (seed 2). Training runs for a wall-clock budget (MINUTES, default
# 10, the machine is shared: the step count reached is reported); STEPS=N trains a fixed number of
# steps instead (deterministic). With /tmp/pyort (or any onnxruntime on PYTHONPATH) the export is
# checked with onnxruntime before the script ends. Needs Node 22 (node on PATH, runs .ts) and
# /usr/bin/python3 with torch and onnx (Debian python3-torch python3-onnx).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
OUT="${1:-$ROOT/native-models/shapeworld/models/captioner}"
PYTHON="${PYTHON:-/usr/bin/python3}"
NODE="${NODE:-node}"

TRAIN_COUNT="${TRAIN_COUNT:-12000}"
VAL_COUNT="${VAL_COUNT:-1000}"
TRAIN_SEED="${TRAIN_SEED:-1}"
VAL_SEED="${VAL_SEED:-2}"
TRAIN_FACTOR_RATE="${TRAIN_FACTOR_RATE:-0.12}"
EVAL_FACTOR_RATE="${EVAL_FACTOR_RATE:-0.1}"
MINUTES="${MINUTES:-10}"
STEPS="${STEPS:-0}"
TRAIN_TORCH_SEED="${TRAIN_TORCH_SEED:-0}"
THREADS="${THREADS:-2}"
CONCURRENCY="${CONCURRENCY:-2}"
export PYTHONPATH="${PYTHONPATH:-/tmp/pyort}"

DATA="${DATA:-$(mktemp -d "${TMPDIR:-/tmp}/shapeworld-captioner-data.XXXXXX")}"
if [ "${KEEP_DATA:-0}" != "1" ]; then trap 'rm -rf "$DATA"' EXIT; fi
mkdir -p "$DATA"

start=$(date +%s)
gen() {
  if [ -f "$DATA/$1/scenes.jsonl" ] && [ "${REUSE_DATA:-0}" = "1" ]; then echo "reusing $DATA/$1"; return; fi
  "$NODE" "$ROOT/native-models/shapeworld/generate-cli.ts" --quiet --concurrency "$CONCURRENCY" \
    --out "$DATA/$1" --split "$1" --count "$2" --seed "$3" "${@:4}" > "$DATA/$1.summary.json"
  echo "generated $1: $2 images"
}
gen train "$TRAIN_COUNT" "$TRAIN_SEED" --usual-bg-rate balanced --factor-rate "$TRAIN_FACTOR_RATE"
gen val "$VAL_COUNT" "$VAL_SEED" --usual-bg-rate balanced --factor-rate "$EVAL_FACTOR_RATE"
gen_end=$(date +%s)

RAW="$DATA/captioner-export"
rm -rf "$RAW"
"$PYTHON" "$ROOT/native-models/shapeworld/train/train_captioner.py" \
  --data "$DATA" --out "$RAW" --backgrounds-json "$ROOT/resources/shapeworld/backgrounds.json" \
  --minutes "$MINUTES" --steps "$STEPS" --seed "$TRAIN_TORCH_SEED" --threads "$THREADS" ${TRAIN_ARGS:-}
end=$(date +%s)

"$PYTHON" - "$RAW/train_report.json" "$((gen_end - start))" "$((end - gen_end))" "$((end - start))" <<'PY'
import json, sys
p, gen_s, train_s, total_s = sys.argv[1], *map(int, sys.argv[2:5])
r = json.load(open(p))
r['build_seconds'] = {'generate': gen_s, 'train_script': train_s, 'total': total_s}
json.dump(r, open(p, 'w'), indent=1)
h = r['held_out_val']
print(json.dumps({'caption_exact': h['caption_exact'], 'slot_exact': h['slot_exact'], 'bytes': r['bytes']['total']}))
PY
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
cp -r "$RAW" "$OUT"
echo "build_captioner done in $((end - start)) s (data $((gen_end - start)) s, training script $((end - gen_end)) s); package in $OUT"
[ "${KEEP_DATA:-0}" = "1" ] && echo "data kept in $DATA"
exit 0
