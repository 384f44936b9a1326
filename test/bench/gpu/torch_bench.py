"""PyTorch reference for `npm run bench:gpu`: images/s of one model on a pre-made input tensor.

  /usr/bin/python3 test/bench/gpu/torch_bench.py --model resnet50|clip-vit-b32 --batch B --iters N
      [--warmup W] --device cuda|cpu --dtype fp16|fp32 [--channels-last] [--threads T] [--json]

Same architectures as the ONNX exports (models.py). Warm-up iterations are excluded; under
torch.inference_mode; on CUDA, torch.cuda.synchronize() before starting and before stopping the clock.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from models import IMAGE_SIZE, MODELS, build  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, choices=MODELS)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=None, help='default: min(5, iters)')
    ap.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    ap.add_argument('--dtype', default='fp16', choices=['fp16', 'fp32'])
    ap.add_argument('--channels-last', action='store_true')
    ap.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (CPU); default: torch\'s own')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('torch_bench: --device cuda but torch.cuda.is_available() is False')
    if a.device == 'cpu' and a.dtype == 'fp16':
        raise SystemExit('torch_bench: fp16 on cpu is not supported (no fp16 convolution on CPU)')
    warmup = a.warmup if a.warmup is not None else min(5, a.iters)
    dtype = torch.float16 if a.dtype == 'fp16' else torch.float32
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = build(a.model).to(device=a.device, dtype=dtype, memory_format=fmt)
    x = torch.randn(a.batch, 3, IMAGE_SIZE, IMAGE_SIZE).to(device=a.device, dtype=dtype, memory_format=fmt)
    sync = torch.cuda.synchronize if a.device == 'cuda' else (lambda: None)
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        sync()
        t0 = time.perf_counter()
        for _ in range(a.iters):
            model(x)
        sync()
        seconds = time.perf_counter() - t0
    r = {
        'model': a.model, 'device': a.device, 'dtype': a.dtype, 'batch': a.batch, 'iters': a.iters,
        'warmup': warmup, 'channelsLast': a.channels_last, 'threads': torch.get_num_threads(),
        'torch': torch.__version__, 'seconds': seconds,
        'msPerBatch': 1000 * seconds / a.iters, 'imagesPerSecond': a.batch * a.iters / seconds,
        'gpu': torch.cuda.get_device_name() if a.device == 'cuda' else None,
    }
    if a.json:
        print(json.dumps(r))
    else:
        print(f"{a.model} {a.device} {a.dtype} batch {a.batch}: {r['imagesPerSecond']:.1f} images/s "
              f"({r['msPerBatch']:.1f} ms/batch, {a.iters} iters after {warmup} warm-up)")


if __name__ == '__main__':
    main()
