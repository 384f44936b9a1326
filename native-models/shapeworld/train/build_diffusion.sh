#!/usr/bin/env bash
# Regenerate ShapeWorld caption data and retrain the ShapeWorld text-to-image model.
#
#   native-models/shapeworld/train/build_diffusion.sh [OUT_DIR]
#
# OUT_DIR defaults to native-models/shapeworld/models/diffusion: a Stable Diffusion model in the
# Hugging Face Optimum ONNX layout (model_index.json, text_encoder/, unet/, vae_decoder/,
# vae_encoder/, tokenizer/, scheduler/) plus reference.json (torch outputs for the package tests)
# and train_report.json. The text encoder is the committed ShapeWorld CLIP's (build_clip.sh first).
# Quality is measured twice: by train_diffusion.py with its own torch DDIM sampler, then with the
# project's TypeScript pipeline (factorlab generate, onnxruntime-node CPU) scored by the ShapeWorld
# CLIP (native-models/clip/eval-cli.ts). Settings below are the ones the committed model was
# trained with; each can be overridden from the environment. Needs Node 22 (node on PATH) and
# /usr/bin/python3 with torch and onnx (Debian python3-torch python3-onnx) and onnxruntime for
# Python (ORT_PYTHONPATH: a folder made with `pip install --target DIR onnxruntime`, or a wheel
# unpacked there) to run the CLIP text encoder on the captions.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
OUT="${1:-$ROOT/native-models/shapeworld/models/diffusion}"
PYTHON="${PYTHON:-/usr/bin/python3}"
NODE="${NODE:-node}"
CLIP="${CLIP:-$ROOT/native-models/shapeworld/models/clip}"
BPE="${BPE:-$ROOT/resources/clip/bpe_simple_vocab_16e6.txt.gz}"
ORT_PYTHONPATH="${ORT_PYTHONPATH:-}"

TRAIN_COUNT="${TRAIN_COUNT:-16000}"
TRAIN_SEED="${TRAIN_SEED:-5}"
TRAIN_FACTOR_RATE="${TRAIN_FACTOR_RATE:-0.12}"
VAE_EPOCHS="${VAE_EPOCHS:-2.5}"
UNET_MINUTES="${UNET_MINUTES:-35}"
TRAIN_TORCH_SEED="${TRAIN_TORCH_SEED:-0}"
# Reporting bias, later stages: the trained UNet is fine-tuned (autoencoder kept) on captions that
# drop a usual background ("a photo of a fish" for a fish in water) at the given rate, so class-name
# prompts draw usual contexts as a web-trained model's do. STEPS:RATE per stage; empty skips them.
FINETUNE_SCHEDULE="${FINETUNE_SCHEDULE:-800:0.5 800:1.0 800:1.0}"
THREADS="${THREADS:-2}"
CONCURRENCY="${CONCURRENCY:-2}"
# The TypeScript-pipeline measurement: n images for each of the 80 "a photo of a {class} {background}" prompts.
EVAL_N="${EVAL_N:-4}"
EVAL_STEPS="${EVAL_STEPS:-25}"
EVAL_GUIDANCE="${EVAL_GUIDANCE:-5}"
EVAL_SEED="${EVAL_SEED:-1000}"

if [ -z "${EXPORT_DIR:-}" ] && ! PYTHONPATH="$ORT_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -c 'import onnxruntime' 2>/dev/null; then
  echo "build_diffusion: $PYTHON cannot import onnxruntime: set ORT_PYTHONPATH to a folder made with 'pip install --target DIR onnxruntime' (or an unpacked onnxruntime wheel)" >&2
  exit 2
fi

DATA="${DATA:-$(mktemp -d "${TMPDIR:-/tmp}/shapeworld-diffusion-data.XXXXXX")}"
if [ "${KEEP_DATA:-0}" != "1" ]; then trap 'rm -rf "$DATA"' EXIT; fi
mkdir -p "$DATA"

start=$(date +%s)
if [ -f "$DATA/train/scenes.jsonl" ] && [ "${REUSE_DATA:-0}" = "1" ]; then
  echo "reusing $DATA/train"
else
  "$NODE" "$ROOT/native-models/shapeworld/generate-cli.ts" --quiet --concurrency "$CONCURRENCY" \
    --out "$DATA/train" --split train --count "$TRAIN_COUNT" --seed "$TRAIN_SEED" \
    --usual-bg-rate balanced --factor-rate "$TRAIN_FACTOR_RATE" > "$DATA/train.summary.json"
  echo "generated train: $TRAIN_COUNT images"
fi
gen_end=$(date +%s)

RAW="${EXPORT_DIR:-$DATA/diffusion-export}"
# EXPORT_DIR=DIR: package and evaluate an existing export of train_diffusion.py instead of training.
[ -n "${EXPORT_DIR:-}" ] || PYTHONPATH="$ORT_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" "$ROOT/native-models/shapeworld/train/train_diffusion.py" \
  --data "$DATA/train" --clip "$CLIP" --bpe "$BPE" --out "$RAW" \
  --vae-epochs "$VAE_EPOCHS" --unet-minutes "$UNET_MINUTES" --seed "$TRAIN_TORCH_SEED" --threads "$THREADS" ${TRAIN_ARGS:-}
STAGE_METAS=""
if [ -z "${EXPORT_DIR:-}" ]; then
  stage=0
  for st in $FINETUNE_SCHEDULE; do
    stage=$((stage + 1))
    PYTHONPATH="$ORT_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" "$ROOT/native-models/shapeworld/train/train_diffusion.py" \
      --data "$DATA/train" --clip "$CLIP" --bpe "$BPE" --out "$RAW-finetune$stage" --init "$RAW/weights.pt" --vae-epochs 0 \
      --unet-steps "${st%%:*}" --omit-usual-context "${st##*:}" --seed "$TRAIN_TORCH_SEED" --threads "$THREADS"
    STAGE_METAS="$STAGE_METAS $RAW/diffusion_meta.json"
    RAW="$RAW-finetune$stage"
  done
fi
train_end=$(date +%s)

rm -rf "$OUT"
mkdir -p "$OUT"
for part in model_index.json text_encoder unet vae_decoder vae_encoder tokenizer scheduler reference.json; do
  cp -r "$RAW/$part" "$OUT/"
done

# Quality with the project's pipeline: generate, then score with the ShapeWorld CLIP.
"$PYTHON" - "$ROOT/resources/shapeworld" "$DATA" <<'PY'
import json, os, sys
res, out = sys.argv[1:3]
classes = [c['name'] for c in json.load(open(os.path.join(res, 'classes.json')))['classes']]
bgs = json.load(open(os.path.join(res, 'backgrounds.json')))['backgrounds']
article = lambda w: ('an ' if w[0] in 'aeiou' else 'a ') + w
prompts = [{'prompt': f'a photo of {article(c)} {b["phrase"]}', 'class': c, 'background': b['name']} for c in classes for b in bgs]
json.dump(prompts, open(os.path.join(out, 'prompts.json'), 'w'))
tasks = {
    'class': {'classes': [{'name': c, 'text': c} for c in classes], 'templates': ['a photo of a {}', 'a photo of the {}']},
    'background': {'classes': [{'name': b['name'], 'text': b['phrase']} for b in bgs], 'templates': ['a photo of something {}']},
}
json.dump(tasks, open(os.path.join(out, 'tasks.json'), 'w'), indent=1)
PY
mapfile -t PROMPT_ARGS < <("$PYTHON" -c "import json,sys; [print(a) for p in json.load(open(sys.argv[1])) for a in ('--prompt', p['prompt'])]" "$DATA/prompts.json")
rm -rf "$DATA/generated"
gen_ts_start=$(date +%s)
"$NODE" "$ROOT/bin/factorlab.mjs" generate --model "$OUT" "${PROMPT_ARGS[@]}" --n "$EVAL_N" --steps "$EVAL_STEPS" \
  --guidance "$EVAL_GUIDANCE" --seed "$EVAL_SEED" --provider cpu --out "$DATA/generated" --json > "$DATA/generated.json"
gen_ts_end=$(date +%s)
"$PYTHON" - "$DATA" <<'PY'
import json, os, sys
out = sys.argv[1]
by_prompt = {p['prompt']: p for p in json.load(open(os.path.join(out, 'prompts.json')))}
with open(os.path.join(out, 'generated-labels.jsonl'), 'w') as f:
    for name in sorted(os.listdir(os.path.join(out, 'generated'))):
        if not name.endswith('.json'):
            continue
        prov = json.load(open(os.path.join(out, 'generated', name)))
        p = by_prompt[prov['prompt']]
        f.write(json.dumps({'file': prov['file'], 'labels': {'class': p['class'], 'background': p['background']}}) + '\n')
PY
"$NODE" "$ROOT/native-models/clip/eval-cli.ts" --model "$CLIP" --labels "$DATA/generated-labels.jsonl" --tasks "$DATA/tasks.json" \
  --root "$DATA/generated" > "$DATA/quality_ts.json"
end=$(date +%s)

"$PYTHON" - "$RAW/diffusion_meta.json" "$DATA/quality_ts.json" "$OUT" "$((gen_end - start))" "$((train_end - gen_end))" \
  "$((gen_ts_end - gen_ts_start))" "$((end - start))" "$EVAL_N" "$EVAL_STEPS" "$EVAL_GUIDANCE" "$EVAL_SEED" "${EXPORT_DIR:-}" "${STAGE_METAS:-}" <<'PY'
import json, os, sys
meta_p, q_p, out = sys.argv[1:4]
gen_s, train_s, gen_ts_s, total_s, n, steps = map(int, sys.argv[4:10])
guidance, seed, reused, stage_metas = float(sys.argv[10]), int(sys.argv[11]), sys.argv[12], sys.argv[13].split()
meta, q = json.load(open(meta_p)), json.load(open(q_p))
files = []
for d, _, fs in os.walk(out):
    files += [os.path.relpath(os.path.join(d, f), out) for f in fs]
size = {f: os.path.getsize(os.path.join(out, f)) for f in sorted(files)}
report = {
    'model': 'shapeworld-diffusion',
    'quality_ts': {'pipeline': 'native-models/diffusion (factorlab generate, onnxruntime-node CPU), scored by the ShapeWorld CLIP (native-models/clip)',
                   'prompts': 80, 'images_per_prompt': n, 'steps': steps, 'guidance': guidance, 'scheduler': 'DDIM (the package scheduler_config)',
                   'seed': seed, 'generate_seconds': gen_ts_s, **q},
    'targets': {'class': 0.80, 'background': 0.70},
    'bytes': {**size, 'total': sum(size.values())},
    'build_seconds': {'generate_data': gen_s, 'train_script': train_s, 'total': total_s} if not reused else
        {'note': 'packaged from an existing export of train_diffusion.py (same settings as this script); training time in training.seconds'},
    'training': meta,
}
if stage_metas:
    report['training_earlier_stages'] = [json.load(open(m)) for m in stage_metas]
json.dump(report, open(os.path.join(out, 'train_report.json'), 'w'), indent=1)
print(json.dumps({'class': q['tasks']['class']['accuracy'], 'background': q['tasks']['background']['accuracy'], 'bytes': report['bytes']['total']}))
PY
echo "build_diffusion done in $((end - start)) s (data $((gen_end - start)) s, training $((train_end - gen_end)) s); package in $OUT"
[ "${KEEP_DATA:-0}" = "1" ] && echo "data kept in $DATA"
exit 0
