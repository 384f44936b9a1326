#!/usr/bin/python3
"""Train the ShapeWorld captioner (image -> long caption) and export it in the Hugging Face Optimum
ONNX layout of a VisionEncoderDecoder model (what `optimum-cli export onnx --task image-to-text`
writes for e.g. nlpconnect/vit-gpt2-image-captioning), so that native-models/captioner reads it
exactly as it reads a real export.

Reads splits written by native-models/shapeworld/generate-cli.ts (scenes.jsonl with
`captions.long`), trains on `train`, measures on `val` (held out: other seed, balanced backgrounds)
and writes to OUT:

  encoder_model.onnx        `pixel_values` float32 [N,3,64,64] -> `last_hidden_state` [N,64,D]
                            (a small CNN, its 8 x 8 feature map as 64 tokens + learned positions)
  decoder_model.onnx        `input_ids` int64 [N,T], `encoder_hidden_states` [N,S,D] -> `logits`
                            [N,T,V] (a causal pre-LN transformer with cross-attention; the no-past
                            variant: every step recomputes the whole prefix)
  config.json               VisionEncoderDecoderConfig-style: decoder_start / bos / eos / pad ids,
                            encoder and decoder sub-configs (decoder.vocab_size, n_positions)
  generation_config.json    the same ids and max_length
  preprocessor_config.json  ViTImageProcessor-style: 64 x 64, bilinear, rescale 1/255, mean/std 0.5
  vocab.json, merges.txt    a word-level vocabulary in GPT-2's byte-level BPE format: one token per
                            word, with GPT-2's space marker (U+0120) on every word but the first;
                            merges.txt holds only the `#version: 0.2` header (no merges needed, it
                            is still a valid BPE tokenizer), so a generic GPT-2 decoder reads it
  special_tokens_map.json, tokenizer_config.json   as Hugging Face writes them for GPT-2
  reference.json            greedy captions (ids and text) of the first val images, computed by
                            torch BEFORE the export (the unit test re-renders those images with the
                            TS world and checks the ONNX package produces the same captions)
  train_report.json         data, model, steps, time, held-out quality on val (exact match per
                            caption slot: medium, count, class, colour, background, the whole
                            caption...) and the ONNX check

Preprocessing: RGB 64x64 scaled to [0,1], mean 0.5 std 0.5 per channel, NCHW.
Python 3 with torch 1.13 (Debian python3-torch, CPU); deterministic for a seed on one machine.
"""
import argparse
import json
import math
import os
import random
import re
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

MEAN = 0.5
STD = 0.5
SPACE = '\u0120'  # GPT-2's byte-level encoding of ' ' (byte 0x20 -> U+0120)
EOT = '<|endoftext|>'
WORD = re.compile(r"[a-z0-9][a-z0-9'-]*|,")


# ----------------------------------------------------------------------------- tokenizer ----
class WordTokenizer:
    """Word-level tokens in GPT-2's byte-level format: 'a', 'Ġphoto', ',' ... Decoding is GPT-2's:
    concatenate the token strings, map U+0120 back to a space. Only ASCII lower-case words and
    commas occur in ShapeWorld captions, so the byte-level map is the identity for everything else."""

    def __init__(self, captions):
        first, rest = set(), set()
        for c in captions:
            toks = self.split(c)
            first.add(toks[0])
            rest.update(toks[1:])
        words = [EOT] + sorted(first) + sorted(rest)
        self.vocab = {w: i for i, w in enumerate(words)}
        self.inv = words
        self.eot = 0

    @staticmethod
    def split(caption):
        words = WORD.findall(caption)
        if ' '.join(words).replace(' ,', ',') != caption:
            raise SystemExit(f'caption has characters the word tokenizer does not handle: {caption!r}')
        # GPT-2 marks a word that follows a space; the first word and commas follow none
        return [w if (i == 0 or w == ',') else SPACE + w for i, w in enumerate(words)]

    def encode(self, caption):
        return [self.vocab[t] for t in self.split(caption)]

    def encode_known(self, caption):
        toks = self.split(caption)
        return [self.vocab[t] for t in toks if t in self.vocab], sum(t not in self.vocab for t in toks)

    def decode(self, ids):
        return ''.join(self.inv[i] for i in ids if i != self.eot).replace(SPACE, ' ').strip()

    def write_hf(self, out):
        with open(os.path.join(out, 'vocab.json'), 'w', encoding='utf-8') as f:
            json.dump(self.vocab, f, ensure_ascii=False)
        with open(os.path.join(out, 'merges.txt'), 'w', encoding='utf-8') as f:
            f.write('#version: 0.2\n')
        json.dump({'bos_token': EOT, 'eos_token': EOT, 'unk_token': EOT, 'pad_token': EOT},
                  open(os.path.join(out, 'special_tokens_map.json'), 'w'), indent=1)
        json.dump({'tokenizer_class': 'GPT2Tokenizer', 'model_max_length': 1024, 'add_prefix_space': False,
                   'bos_token': EOT, 'eos_token': EOT, 'unk_token': EOT, 'pad_token': EOT,
                   'clean_up_tokenization_spaces': False},
                  open(os.path.join(out, 'tokenizer_config.json'), 'w'), indent=1)


# ------------------------------------------------------------------------------- models ----
class Linear(nn.Linear):
    """nn.Linear that trains through a 1x1 convolution on CPU (Debian's torch links the reference
    BLAS, slow at matmul; convolutions go through oneDNN). Same maths; a plain linear in eval/export."""

    def forward(self, x):
        if self.training and x.device.type == 'cpu':
            shp = x.shape
            y = F.conv2d(x.reshape(-1, shp[-1], 1, 1), self.weight[:, :, None, None], self.bias)
            return y.reshape(*shp[:-1], self.out_features)
        return super().forward(x)


def conv_bn(cin, cout, stride):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Encoder(nn.Module):
    """CNN 64x64 -> 8x8 feature map -> 64 tokens of width D (+ learned positions, LayerNorm)."""

    def __init__(self, widths, d):
        super().__init__()
        w1, w2, w3 = widths
        layers = conv_bn(3, w1, 2) + conv_bn(w1, w2, 2) + conv_bn(w2, w2, 1) + conv_bn(w2, w3, 2) + conv_bn(w3, d, 1)
        self.features = nn.Sequential(*layers)
        self.pos = nn.Parameter(torch.randn(64, d) * 0.02)
        self.ln = nn.LayerNorm(d)

    def forward(self, pixel_values):
        f = self.features(pixel_values)  # [N, D, 8, 8]
        x = f.flatten(2).transpose(1, 2) + self.pos  # [N, 64, D]
        return self.ln(x)


class Attention(nn.Module):
    def __init__(self, d, heads, cross):
        super().__init__()
        self.h = heads
        self.cross = cross
        if cross:
            self.q = Linear(d, d)
            self.kv = Linear(d, 2 * d)
        else:
            self.qkv = Linear(d, 3 * d)
        self.out = Linear(d, d)

    def forward(self, x, mem=None, mask=None):
        n, l, d = x.shape
        h = self.h
        if self.cross:
            q = self.q(x)
            k, v = self.kv(mem).chunk(2, dim=-1)
        else:
            q, k, v = self.qkv(x).chunk(3, dim=-1)
        s = k.shape[1]
        q = q.reshape(n, l, h, d // h).transpose(1, 2)
        k = k.reshape(n, s, h, d // h).transpose(1, 2)
        v = v.reshape(n, s, h, d // h).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h))
        if mask is not None:
            att = att + mask
        y = torch.matmul(att.softmax(dim=-1), v).transpose(1, 2).reshape(n, l, d)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.self_attn = Attention(d, heads, cross=False)
        self.ln2 = nn.LayerNorm(d)
        self.cross_attn = Attention(d, heads, cross=True)
        self.ln3 = nn.LayerNorm(d)
        self.fc1 = Linear(d, mlp)
        self.fc2 = Linear(mlp, d)

    def forward(self, x, mem, mask):
        x = x + self.self_attn(self.ln1(x), mask=mask)
        x = x + self.cross_attn(self.ln2(x), mem=mem)
        return x + self.fc2(F.gelu(self.fc1(self.ln3(x))))


class Decoder(nn.Module):
    """GPT-2-like: token + learned position embeddings, pre-LN blocks with causal self-attention and
    cross-attention to the encoder's tokens, final LayerNorm, LM head tied to the token embedding."""

    def __init__(self, vocab, d, layers, heads, mlp, positions):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(positions, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, heads, mlp) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        nn.init.normal_(self.tok.weight, std=0.02)

    def forward(self, input_ids, encoder_hidden_states):
        t = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos[:t]
        mask = torch.triu(torch.full((t, t), -1e4, device=x.device), diagonal=1)
        for b in self.blocks:
            x = b(x, encoder_hidden_states, mask)
        return torch.matmul(self.ln_f(x), self.tok.weight.t())


class Captioner(nn.Module):
    def __init__(self, a, vocab):
        super().__init__()
        self.encoder = Encoder(a.widths, a.width)
        self.decoder = Decoder(vocab, a.width, a.layers, a.heads, a.mlp, a.positions)


@torch.no_grad()
def greedy(model, x, start, eos, max_new, batch=250):
    """Greedy decoding as the TS captioner does it: the no-past decoder on the whole prefix each
    step, argmax of the last position's logits, a row stops at EOS."""
    out = []
    for s in range(0, len(x), batch):
        mem = model.encoder(x[s:s + batch])
        n = mem.shape[0]
        ids = torch.full((n, 1), start, dtype=torch.long)
        done = torch.zeros(n, dtype=torch.bool)
        gen = [[] for _ in range(n)]
        for _ in range(max_new):
            act = (~done).nonzero().flatten()
            if len(act) == 0:
                break
            logits = model.decoder(ids[act], mem[act])[:, -1]
            nxt = logits.argmax(-1)
            col = torch.full((n,), eos, dtype=torch.long)
            col[act] = nxt
            ids = torch.cat([ids, col[:, None]], 1)
            for k, r in enumerate(act.tolist()):
                tkn = int(nxt[k])
                if tkn == eos:
                    done[r] = True
                else:
                    gen[r].append(tkn)
        out.extend(gen)
    return out


# --------------------------------------------------------------------------- evaluation ----
def slots(caption, classes, bg_phrases):
    """The parts of a long caption: medium, count, class, colour (the word before the noun),
    adjectives, background, the set of trailing clauses."""
    head, *tail = caption.split(', ')
    medium = next((m for m in ('a photo of', 'an outline drawing of', 'a pencil sketch of') if head.startswith(m + ' ')), None)
    rest = head[len(medium) + 1:] if medium else head
    bg = next((b for b in sorted(bg_phrases, key=len, reverse=True) if rest.endswith(' ' + b)), None)
    np_ = rest[:-(len(bg) + 1)] if bg else rest
    words = np_.split()
    count = {'two': 2, 'three': 3}.get(words[0], 1) if words else None
    cls, ci = None, None
    for i, w in enumerate(words):
        for c in classes:
            if w in (c, c + 's', c + 'es') or (c == 'fish' and w.endswith('fish')):
                cls, ci = c, i
    adjs = words[1:ci] if ci is not None else None
    return {'medium': medium, 'count': count, 'class': cls, 'background': bg, 'adjectives': ' '.join(adjs) if adjs is not None else None,
            'colour': None if not adjs else adjs[-1] if ci == len(adjs) + 1 else None,
            'noun': ' '.join(words[ci:]) if ci is not None else None, 'tail': sorted(tail)}


def evaluate(pred_texts, ref_texts, classes, bg_phrases):
    keys = ['class', 'background', 'medium', 'count', 'colour', 'adjectives', 'noun', 'tail']
    hits = {k: 0 for k in keys}
    exact = 0
    per_class = {c: [0, 0] for c in classes}
    for p, r in zip(pred_texts, ref_texts):
        sp, sr = slots(p, classes, bg_phrases), slots(r, classes, bg_phrases)
        for k in keys:
            hits[k] += int(sp[k] == sr[k])
        exact += int(p == r)
        per_class[sr['class']][0] += int(sp['class'] == sr['class'])
        per_class[sr['class']][1] += 1
    n = len(ref_texts)
    return {'n': n, 'caption_exact': round(exact / n, 4), 'slot_exact': {k: round(v / n, 4) for k, v in hits.items()},
            'class_by_class': {c: round(a / b, 4) for c, (a, b) in per_class.items() if b}}


# --------------------------------------------------------------------------------- data ----
def load_split(d):
    meta = json.load(open(os.path.join(d, 'shapeworld.json')))
    scenes = [json.loads(l) for l in open(os.path.join(d, 'scenes.jsonl'))]
    imgs = np.empty((len(scenes), meta['size'], meta['size'], 3), dtype=np.uint8)
    for i, s in enumerate(scenes):
        with Image.open(os.path.join(d, s['file'])) as im:
            imgs[i] = np.asarray(im.convert('RGB'))
    return meta, imgs, scenes


def to_tensor(imgs):
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - MEAN) / STD


# --------------------------------------------------------------------------------- main ----
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, help='folder with train/ and val/ splits')
    ap.add_argument('--out', required=True)
    ap.add_argument('--backgrounds-json', required=True)
    ap.add_argument('--minutes', type=float, default=10.0, help='training time budget (wall clock); the cosine schedule is laid out over the steps that fit')
    ap.add_argument('--steps', type=int, default=0, help='fixed number of steps instead of a time budget')
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--weight-decay', type=float, default=0.02)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--width', type=int, default=128)
    ap.add_argument('--widths', default='32,64,96')
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--mlp', type=int, default=256)
    ap.add_argument('--positions', type=int, default=48)
    ap.add_argument('--reference-images', type=int, default=12)
    ap.add_argument('--bench', type=int, default=0, help='time N steps and exit')
    a = ap.parse_args()
    a.widths = [int(w) for w in a.widths.split(',')]

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    np.random.seed(a.seed)
    t0 = time.time()

    tr_meta, tr_imgs, tr_scenes = load_split(os.path.join(a.data, 'train'))
    va_meta, va_imgs, va_scenes = load_split(os.path.join(a.data, 'val'))
    classes = tr_meta['classes']
    bg_phrases = [b['phrase'] for b in json.load(open(a.backgrounds_json))['backgrounds']]
    t_load = time.time() - t0

    tr_caps = [s['captions']['long'] for s in tr_scenes]
    va_caps = [s['captions']['long'] for s in va_scenes]
    tok = WordTokenizer(tr_caps)
    for c in tr_caps:
        if tok.decode(tok.encode(c)) != c:
            raise SystemExit(f'tokenizer round trip failed on {c!r}')
    V = len(tok.vocab)
    oov = sum(tok.encode_known(c)[1] > 0 for c in va_caps)
    tr_ids = [tok.encode(c) + [tok.eot] for c in tr_caps]
    longest = max(len(i) for i in tr_ids)
    if longest > a.positions:
        raise SystemExit(f'captions need {longest} positions, --positions is {a.positions}')
    x_tr = to_tensor(tr_imgs)
    x_va = to_tensor(va_imgs)
    n = len(tr_scenes)

    model = Captioner(a, V)
    n_params = {k: sum(p.numel() for p in getattr(model, k).parameters()) for k in ('encoder', 'decoder')}
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or name.endswith('pos') else decay).append(p)
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': a.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}], lr=a.lr)
    g = np.random.default_rng(a.seed)

    def batch_at(idx):
        seqs = [tr_ids[i] for i in idx]
        t = max(len(s) for s in seqs)
        inp = np.full((len(idx), t), tok.eot, dtype=np.int64)  # decoder_start = EOT, as GPT-2 captioners
        tgt = np.full((len(idx), t), -100, dtype=np.int64)
        for k, s in enumerate(seqs):
            inp[k, 1:len(s)] = s[:-1]
            tgt[k, :len(s)] = s
        return x_tr[idx], torch.from_numpy(inp), torch.from_numpy(tgt)

    def train_step(idx, lr):
        for grp in opt.param_groups:
            grp['lr'] = lr
        xb, inp, tgt = batch_at(idx)
        logits = model.decoder(inp, model.encoder(xb))
        loss = F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    model.train()
    if a.bench:
        ts = time.time()
        for s in range(a.bench):
            train_step(g.choice(n, a.batch, replace=False), a.lr)
        dt = (time.time() - ts) / a.bench
        print(json.dumps({'seconds_per_step': round(dt, 3), 'params': n_params, 'vocab': V}))
        return

    # Schedule: linear warm-up (100 steps), then cosine decay to 0 over the run, the run's progress
    # being step / --steps (deterministic) or, by default, elapsed time / --minutes: the machine is
    # shared, so a time budget keeps training within it whatever the load (the step count reached
    # is reported).
    history = []
    t_train = time.time()
    lengths = np.array([len(s) for s in tr_ids])

    def epoch_batches():
        # length-bucketed batches (less padding): shuffle, sort chunks of 16 batches by caption
        # length, cut into batches, shuffle the batch order
        perm = g.permutation(n)
        chunk = 16 * a.batch
        out = []
        for c in range(0, n - a.batch + 1, chunk):
            part = perm[c:c + chunk]
            part = part[np.argsort(lengths[part], kind='stable')]
            out += [part[b:b + a.batch] for b in range(0, len(part) - a.batch + 1, a.batch)]
        return [out[i] for i in g.permutation(len(out))]

    batches, pos = epoch_batches(), 0
    step, run_loss = 0, 0.0
    warm = 100
    budget = a.minutes * 60
    while True:
        progress = step / a.steps if a.steps else (time.time() - t_train) / budget
        if progress >= 1:
            break
        if pos == len(batches):
            batches, pos = epoch_batches(), 0
        idx = batches[pos]
        pos += 1
        lr = a.lr * min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * progress))
        run_loss += train_step(idx, lr)
        step += 1
        if step % 200 == 0:
            history.append({'step': step, 'epoch': round(step * a.batch / n, 2), 'loss': round(run_loss / 200, 4),
                            'lr': round(lr, 6), 'seconds': round(time.time() - t_train, 1)})
            run_loss = 0.0
            print(json.dumps(history[-1]), flush=True)
    total = step
    train_seconds = time.time() - t_train

    # ---- held-out quality (val, torch greedy) ----
    model.eval()
    max_new = a.positions - 1
    te = time.time()
    va_pred_ids = greedy(model, x_va, tok.eot, tok.eot, max_new)
    va_pred = [tok.decode(i) for i in va_pred_ids]
    held_out = evaluate(va_pred, va_caps, classes, bg_phrases)
    held_out['greedy_seconds'] = round(time.time() - te, 1)
    held_out['val_captions_with_unknown_words'] = oov
    held_out['examples'] = [{'index': i, 'reference': va_caps[i], 'generated': va_pred[i]} for i in range(12)]
    print(json.dumps({'held_out': {k: held_out[k] for k in ('n', 'caption_exact', 'slot_exact')}}), flush=True)

    # ---- reference captions (torch, eval mode) BEFORE the export ----
    ref_idx = list(range(a.reference_images))
    ref_ids = greedy(model, x_va[ref_idx], tok.eot, tok.eot, max_new)
    with torch.no_grad():
        first_logits = model.decoder(torch.full((len(ref_idx), 1), tok.eot, dtype=torch.long), model.encoder(x_va[ref_idx]))[:, 0]
    top2 = first_logits.topk(2, dim=-1).values
    reference = {
        'split': 'val', 'seed': va_meta['seed'], 'settings': va_meta['settings'], 'size': va_meta['size'],
        'max_new_tokens': max_new,
        'images': [{'index': i, 'file': va_scenes[i]['file'], 'ground_truth': va_caps[i], 'ids': ref_ids[k], 'caption': tok.decode(ref_ids[k]),
                    'first_step_margin': round(float(top2[k, 0] - top2[k, 1]), 4)} for k, i in enumerate(ref_idx)],
    }

    # ---- export (Optimum's VisionEncoderDecoder layout) ----
    os.makedirs(a.out, exist_ok=True)
    enc_path = os.path.join(a.out, 'encoder_model.onnx')
    dec_path = os.path.join(a.out, 'decoder_model.onnx')

    class EncoderExport(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            return self.m(pixel_values)

    class DecoderExport(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, encoder_hidden_states):
            return self.m(input_ids, encoder_hidden_states)

    with torch.no_grad():
        mem2 = model.encoder(x_va[:2])
    torch.onnx.export(EncoderExport(model.encoder).eval(), (x_va[:2],), enc_path, opset_version=17,
                      input_names=['pixel_values'], output_names=['last_hidden_state'],
                      dynamic_axes={'pixel_values': {0: 'batch_size'}, 'last_hidden_state': {0: 'batch_size'}}, do_constant_folding=True)
    dummy = torch.tensor([[tok.eot, 1, 5], [tok.eot, 2, 7]], dtype=torch.long)
    torch.onnx.export(DecoderExport(model.decoder).eval(), (dummy, mem2), dec_path, opset_version=17,
                      input_names=['input_ids', 'encoder_hidden_states'], output_names=['logits'],
                      dynamic_axes={'input_ids': {0: 'batch_size', 1: 'decoder_sequence_length'},
                                    'encoder_hidden_states': {0: 'batch_size', 1: 'encoder_sequence_length'},
                                    'logits': {0: 'batch_size', 1: 'decoder_sequence_length'}}, do_constant_folding=True)
    again = greedy(model, x_va[ref_idx], tok.eot, tok.eot, max_new)
    if again != ref_ids:
        raise SystemExit('model changed during ONNX export')

    tok.write_hf(a.out)
    ids = {'decoder_start_token_id': tok.eot, 'bos_token_id': tok.eot, 'eos_token_id': tok.eot, 'pad_token_id': tok.eot}
    config = {
        'architectures': ['VisionEncoderDecoderModel'], 'model_type': 'vision-encoder-decoder', 'is_encoder_decoder': True,
        'tie_word_embeddings': False, **ids,
        'encoder': {'model_type': 'shapeworld-cnn', 'hidden_size': a.width, 'image_size': 64, 'num_channels': 3,
                    'channels': a.widths, 'sequence_length': 64},
        'decoder': {'model_type': 'shapeworld-caption-decoder', 'vocab_size': V, 'n_embd': a.width, 'n_layer': a.layers,
                    'n_head': a.heads, 'n_inner': a.mlp, 'n_positions': a.positions, 'add_cross_attention': True, 'is_decoder': True,
                    'bos_token_id': tok.eot, 'eos_token_id': tok.eot, 'pad_token_id': tok.eot},
    }
    json.dump(config, open(os.path.join(a.out, 'config.json'), 'w'), indent=1)
    json.dump({**ids, 'max_length': a.positions, '_from_model_config': True}, open(os.path.join(a.out, 'generation_config.json'), 'w'), indent=1)
    json.dump({'image_processor_type': 'ViTImageProcessor', 'do_resize': True, 'size': {'height': 64, 'width': 64}, 'resample': 2,
               'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True, 'image_mean': [MEAN] * 3, 'image_std': [STD] * 3},
              open(os.path.join(a.out, 'preprocessor_config.json'), 'w'), indent=1)
    json.dump(reference, open(os.path.join(a.out, 'reference.json'), 'w'), indent=1)

    # ---- check the export with onnxruntime (Python), when it is installed ----
    onnx_check = {'checked': False}
    try:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        enc = ort.InferenceSession(enc_path, so, providers=['CPUExecutionProvider'])
        dec = ort.InferenceSession(dec_path, so, providers=['CPUExecutionProvider'])
        xr = x_va[ref_idx].numpy()
        mem = enc.run(['last_hidden_state'], {'pixel_values': xr})[0]
        got = []
        for k in range(len(ref_idx)):
            seq = [tok.eot]
            for _ in range(max_new):
                lg = dec.run(['logits'], {'input_ids': np.array([seq], dtype=np.int64), 'encoder_hidden_states': mem[k:k + 1]})[0]
                nxt = int(lg[0, -1].argmax())
                if nxt == tok.eot:
                    break
                seq.append(nxt)
            got.append(seq[1:])
        with torch.no_grad():
            mem_t = model.encoder(x_va[ref_idx]).numpy()
        onnx_check = {'checked': True, 'onnxruntime': ort.__version__, 'captions_equal': got == ref_ids,
                      'encoder_max_abs_diff': float(np.abs(mem - mem_t).max())}
        if got != ref_ids:
            raise SystemExit(f'ONNX greedy captions differ from torch: {got} vs {ref_ids}')
    except ImportError:
        pass
    print(json.dumps({'onnx_check': onnx_check}), flush=True)

    files = ['encoder_model.onnx', 'decoder_model.onnx', 'config.json', 'generation_config.json', 'preprocessor_config.json',
             'vocab.json', 'merges.txt', 'special_tokens_map.json', 'tokenizer_config.json']
    sizes = {f: os.path.getsize(os.path.join(a.out, f)) for f in files}
    report = {
        'model': 'shapeworld-captioner',
        'layout': 'Hugging Face Optimum ONNX, VisionEncoderDecoder (image-to-text, no past)',
        'data': {'train': {'split': 'train', 'seed': tr_meta['seed'], 'images': n, 'settings': tr_meta['settings']},
                 'val': {'split': 'val', 'seed': va_meta['seed'], 'images': len(va_scenes), 'settings': va_meta['settings']},
                 'captions': 'captions.long', 'vocabulary': V, 'longest_caption_tokens': longest - 1},
        'model_config': {'encoder_channels': a.widths, 'width': a.width, 'encoder_tokens': 64, 'decoder_layers': a.layers,
                         'heads': a.heads, 'mlp': a.mlp, 'positions': a.positions, 'params': n_params,
                         'params_total': sum(n_params.values())},
        'training': {'steps': total, 'batch': a.batch, 'epochs': round(total * a.batch / n, 2), 'lr': a.lr, 'weight_decay': a.weight_decay,
                     'schedule': 'linear warm-up 100 steps, cosine to 0', 'seed': a.seed, 'threads': a.threads,
                     'minutes_budget': a.minutes if not a.steps else None, 'torch': torch.__version__, 'history': history},
        'seconds': {'load': round(t_load, 1), 'train': round(train_seconds, 1), 'total': round(time.time() - t0, 1)},
        'held_out_val': held_out,
        'onnx_check': onnx_check,
        'bytes': {**sizes, 'total': sum(sizes.values())},
    }
    json.dump(report, open(os.path.join(a.out, 'train_report.json'), 'w'), indent=1)
    print('exported to', a.out)


if __name__ == '__main__':
    main()
