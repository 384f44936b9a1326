#!/usr/bin/python3
"""Train the ShapeWorld classifier (a small CNN) and export it to ONNX.

Reads splits written by native-models/shapeworld/generate-cli.ts (ImageNet-style folders with
factors.jsonl in the ImageNet-X format), trains on `train`, picks nothing on `val` (reported only),
evaluates on `test` (overall, usual vs unusual backgrounds, per factor, per background) and writes:

  OUT/shapeworld-cnn.onnx   input `input` float32 [N,3,64,64], output `logits` [N,10], opset 17,
                            ends in Flatten -> Gemm (head weight/bias are initialisers, like ResNet's fc)
  OUT/labels.txt            class names in index order
  OUT/train_report.json     measured accuracies, timing, seeds, settings
  OUT/reference.json        a few test images with their logits (for ONNX runtime reference checks)

Preprocessing (the model package describes it as data): RGB image 64x64, scaled to [0,1],
normalised with mean 0.5 and std 0.5 per channel, NCHW.

Python 3 with torch 1.13 (Debian python3-torch, CPU) or newer; deterministic for a given seed on
one machine.
"""
import argparse
import json
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

FACTORS = [
    'pose', 'background', 'pattern', 'color', 'smaller', 'shape', 'partial_view', 'subcategory',
    'texture', 'larger', 'darker', 'object_blocking', 'person_blocking', 'style', 'brighter',
    'multiple_objects',
]
MEAN = 0.5
STD = 0.5


def load_split(d):
    meta = json.load(open(os.path.join(d, 'shapeworld.json')))
    classes = meta['classes']
    recs = [json.loads(l) for l in open(os.path.join(d, 'factors.jsonl'))]
    scenes = [json.loads(l) for l in open(os.path.join(d, 'scenes.jsonl'))]
    imgs = np.empty((len(recs), meta['size'], meta['size'], 3), dtype=np.uint8)
    for i, r in enumerate(recs):
        with Image.open(os.path.join(d, classes[r['class']], r['file_name'])) as im:
            imgs[i] = np.asarray(im.convert('RGB'))
    labels = np.array([r['class'] for r in recs], dtype=np.int64)
    factors = np.array([[r[f] for f in FACTORS] for r in recs], dtype=np.int64)
    backgrounds = [s['background'] for s in scenes]
    return classes, meta, imgs, labels, factors, backgrounds, recs


def to_tensor(imgs):
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - MEAN) / STD


class ShapeWorldCNN(nn.Module):
    """Stride-2 stem conv, three more conv blocks (max-pool between), global average pool, linear head.

    Conv-BN-ReLU blocks; BN folds into the convs at export. The head is `fc` (nn.Linear), exported as
    Flatten -> Gemm like torchvision's ResNet.
    """

    def __init__(self, num_classes=10, widths=(24, 48, 96, 128)):
        super().__init__()
        layers = [nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                  nn.ReLU(inplace=True)]
        cin = widths[0]
        for i, w in enumerate(widths[1:]):
            if i > 0:
                layers.append(nn.MaxPool2d(2))
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def predict(model, x, bs=500):
    model.eval()
    dev = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out.append(model(x[i:i + bs].to(dev)).cpu())
    return torch.cat(out)


def evaluate(logits, labels, factors, backgrounds, classes, usual_bg):
    pred = logits.argmax(1).numpy()
    ok = pred == labels
    res = {'n': int(len(labels)), 'accuracy': float(ok.mean())}
    bgf = factors[:, FACTORS.index('background')]
    other = np.delete(factors, FACTORS.index('background'), axis=1).sum(1)
    for name, m in [('usual_background', bgf == 0), ('unusual_background', bgf == 1),
                    ('usual_background_no_other_factor', (bgf == 0) & (other == 0)),
                    ('unusual_background_no_other_factor', (bgf == 1) & (other == 0)),
                    ('no_factor', (bgf == 0) & (other == 0))]:
        res[name] = {'n': int(m.sum()), 'accuracy': float(ok[m].mean()) if m.any() else None}
    err = 1 - ok.mean()
    per = {}
    for j, f in enumerate(FACTORS):
        m = factors[:, j] == 1
        acc = float(ok[m].mean()) if m.any() else None
        per[f] = {'n': int(m.sum()), 'accuracy': acc,
                  'error_ratio': (float((1 - acc) / err) if (acc is not None and err > 0) else None)}
        # the factor on usual backgrounds only, to separate it from the background effect
        mu = m & (bgf == 0)
        per[f]['usual_background'] = {'n': int(mu.sum()), 'accuracy': float(ok[mu].mean()) if mu.any() else None}
    res['per_factor'] = per
    res['per_background'] = {}
    for b in sorted(set(backgrounds)):
        m = np.array([x == b for x in backgrounds])
        res['per_background'][b] = {'n': int(m.sum()), 'accuracy': float(ok[m].mean())}
    # Errors on unusual backgrounds that predict a class whose usual background this is.
    bg_arr = np.array(backgrounds)
    wrong_unusual = (~ok) & (bgf == 1)
    driven = sum(1 for i in np.where(wrong_unusual)[0] if bg_arr[i] in usual_bg[classes[pred[i]]])
    res['unusual_background_errors'] = int(wrong_unusual.sum())
    res['unusual_background_errors_to_class_of_that_background'] = int(driven)
    res['per_class'] = {c: float(ok[labels == k].mean()) for k, c in enumerate(classes)}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, help='folder holding train/ val/ test/')
    ap.add_argument('--out', required=True)
    ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--weight-decay', type=float, default=5e-4)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--widths', default='24,48,96,128')
    ap.add_argument('--classes-json', default=None, help='resources/shapeworld/classes.json (usual backgrounds)')
    ap.add_argument('--note', default='')
    ap.add_argument('--device', default='cpu', help='cpu (the committed model) or cuda (for experiments)')
    ap.add_argument('--no-export', action='store_true', help='evaluate only (experiments)')
    args = ap.parse_args()

    t_start = time.time()
    torch.set_num_threads(args.threads)
    if args.device.startswith('cuda'):
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False

    data = {}
    for s in ('train', 'val', 'test'):
        data[s] = load_split(os.path.join(args.data, s))
    classes = data['train'][0]
    for s in ('val', 'test'):
        assert data[s][0] == classes, 'class lists differ between splits'
    usual_bg = {}
    if args.classes_json:
        for c in json.load(open(args.classes_json))['classes']:
            usual_bg[c['name']] = c['usualBackgrounds']
    t_loaded = time.time()

    xtr = to_tensor(data['train'][2])
    ytr = torch.from_numpy(data['train'][3])
    widths = tuple(int(w) for w in args.widths.split(','))
    model = ShapeWorldCNN(len(classes), widths).to(args.device)
    xtr, ytr = xtr.to(args.device), ytr.to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = (len(xtr) + args.batch - 1) // args.batch
    total = args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total, pct_start=0.2)
    gen = torch.Generator().manual_seed(args.seed)
    xva = to_tensor(data['val'][2])
    history = []
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen).to(args.device)
        tl, tc, tn = 0.0, 0, 0
        t0 = time.time()
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = xtr[idx], ytr[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tl += float(loss) * len(idx)
            tc += int((logits.argmax(1) == yb).sum())
            tn += len(idx)
        vl = predict(model, xva)
        vacc = float((vl.argmax(1).numpy() == data['val'][3]).mean())
        history.append({'epoch': ep + 1, 'train_loss': tl / tn, 'train_accuracy': tc / tn, 'val_accuracy': vacc,
                        'seconds': time.time() - t0})
        print(json.dumps(history[-1]), flush=True)
    t_trained = time.time()

    report = {'classes': classes, 'seed': args.seed, 'epochs': args.epochs, 'batch': args.batch, 'lr': args.lr,
              'weight_decay': args.weight_decay, 'widths': list(widths), 'threads': args.threads,
              'torch': torch.__version__, 'note': args.note,
              'preprocessing': {'size': [64, 64], 'scale': 1 / 255, 'mean': [MEAN] * 3, 'std': [STD] * 3,
                                'layout': 'NCHW', 'color': 'RGB'},
              'data': {s: {'count': int(len(data[s][3])), 'seed': data[s][1]['seed'],
                           'settings': data[s][1]['settings']} for s in data},
              'history': history}
    for s in ('train', 'val', 'test'):
        lg = predict(model, to_tensor(data[s][2]))
        report[s] = evaluate(lg, data[s][3], data[s][4], data[s][5], classes, usual_bg)
    report['parameters'] = int(sum(p.numel() for p in model.parameters()))
    if args.no_export:
        t = report['test']
        print(json.dumps({'note': args.note, 'test_accuracy': t['accuracy'], 'usual_bg': t['usual_background']['accuracy'],
                          'unusual_bg': t['unusual_background']['accuracy'],
                          'train_seconds': t_trained - t_loaded}), flush=True)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, 'train_report.json'), 'w') as f:
            json.dump(report, f, indent=1)
        return
    model = model.cpu()

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, 'shapeworld-cnn.onnx')
    model.eval()
    dummy = torch.zeros(1, 3, 64, 64)
    torch.onnx.export(model, dummy, onnx_path, opset_version=17, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    last = m.graph.node[-1]
    inits = {i.name for i in m.graph.initializer}
    assert last.op_type == 'Gemm', f'graph must end in Gemm, ends in {last.op_type}'
    assert last.input[1] in inits and last.input[2] in inits, 'Gemm weight and bias must be initialisers'
    report['onnx'] = {'file': 'shapeworld-cnn.onnx', 'bytes': os.path.getsize(onnx_path), 'opset': 17,
                      'input': 'input', 'output': 'logits', 'nodes': [n.op_type for n in m.graph.node],
                      'head': {'node': last.name, 'weight': last.input[1], 'bias': last.input[2],
                               'feature': last.input[0], 'transB': [a.i for a in last.attribute if a.name == 'transB']}}
    with open(os.path.join(args.out, 'labels.txt'), 'w') as f:
        f.write(''.join(c + '\n' for c in classes))
    # Reference outputs: the first 16 test images.
    xt = to_tensor(data['test'][2][:16])
    ref_logits = predict(model, xt)
    report_ref = {'split': 'test', 'seed': data['test'][1]['seed'],
                  'settings': data['test'][1]['settings'],
                  'images': [{'index': i, 'file_name': data['test'][6][i]['file_name'], 'class': int(data['test'][3][i]),
                              'input_mean': float(xt[i].mean()), 'logits': [round(float(v), 5) for v in ref_logits[i]]}
                             for i in range(len(xt))],
                  'tolerance': 1e-3}
    with open(os.path.join(args.out, 'reference.json'), 'w') as f:
        json.dump(report_ref, f, indent=1)
    report['timing_seconds'] = {'load': t_loaded - t_start, 'train': t_trained - t_loaded,
                                'total': time.time() - t_start}
    with open(os.path.join(args.out, 'train_report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    t = report['test']
    print(json.dumps({'test_accuracy': t['accuracy'], 'usual_bg': t['usual_background'],
                      'unusual_bg': t['unusual_background'], 'params': report['parameters'],
                      'onnx_bytes': report['onnx']['bytes'], 'timing': report['timing_seconds']}))


if __name__ == '__main__':
    main()
