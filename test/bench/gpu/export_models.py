"""Exports the `npm run bench:gpu` models to ONNX (opset 17, dynamic batch), random weights.

  /usr/bin/python3 test/bench/gpu/export_models.py --out DIR [--fp16] [--models resnet50,clip-vit-b32] [--force]

Writes DIR/<model>.fp32.onnx and, with --fp16, DIR/<model>.fp16.onnx (float16 input, weights and
output). Existing files are kept unless --force. Input 'input' [batch, 3, 224, 224], output 'output'.

fp16 needs a CUDA device: tracing the half-precision model runs it, and torch's CPU kernels (torch
1.13) have no fp16 convolution. Without CUDA, --fp16 prints that it is skipped and the fp32 files are
still written (exit 0). Prints one JSON line at the end: {"written": [...], "kept": [...], "skipped": {...}}.
"""
import argparse
import inspect
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from models import IMAGE_SIZE, MODELS, build  # noqa: E402


def export(model, dummy, path):
    kwargs = dict(input_names=['input'], output_names=['output'],
                  dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}}, opset_version=17)
    # torch >= 2.9 defaults to the dynamo exporter (needs onnxscript): ask for the TorchScript one.
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kwargs['dynamo'] = False
    tmp = path + '.tmp'
    with torch.no_grad():
        torch.onnx.export(model, dummy, tmp, **kwargs)
    os.replace(tmp, path)  # never leave a half-written file under the final name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--fp16', action='store_true')
    ap.add_argument('--models', default=','.join(MODELS))
    ap.add_argument('--force', action='store_true')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    written, kept, skipped = [], [], {}
    for name in a.models.split(','):
        dtypes = ['fp32'] + (['fp16'] if a.fp16 else [])
        for dt in dtypes:
            path = os.path.join(a.out, f'{name}.{dt}.onnx')
            if os.path.exists(path) and not a.force:
                kept.append(path)
                continue
            if dt == 'fp16' and not torch.cuda.is_available():
                skipped[path] = 'fp16 export needs CUDA (torch on CPU has no fp16 convolution)'
                print(f'skipping {path}: {skipped[path]}', file=sys.stderr)
                continue
            t0 = time.time()
            model = build(name)
            dummy = torch.randn(1, 3, IMAGE_SIZE, IMAGE_SIZE)
            if dt == 'fp16':
                model, dummy = model.half().cuda(), dummy.half().cuda()
            print(f'exporting {name} {dt} -> {path}', file=sys.stderr)
            export(model, dummy, path)
            print(f'  {time.time() - t0:.1f} s', file=sys.stderr)
            written.append(path)
    print(json.dumps({'written': written, 'kept': kept, 'skipped': skipped}))


if __name__ == '__main__':
    main()
