#!/usr/bin/python3
"""Train the ShapeWorld text-to-image model (a small latent diffusion model) and export it in the
Hugging Face Optimum Stable Diffusion ONNX layout.

Reads a split written by native-models/shapeworld/generate-cli.ts (scenes.jsonl with captions) and
the ShapeWorld CLIP package (its text encoder is the frozen text encoder here, as CLIP's is in SD),
and writes OUT/ with:

  model_index.json                    diffusers' pipeline index (OnnxStableDiffusionPipeline)
  text_encoder/model.onnx             input_ids int32 [B,77] -> last_hidden_state [B,77,128], pooler_output [B,128]
                                      (the ShapeWorld CLIP text encoder, inputs/outputs renamed as SD's)
  unet/model.onnx + config.json       sample [B,4,16,16], timestep int64 [B], encoder_hidden_states [B,77,128] -> out_sample
  vae_decoder/model.onnx + config.json  latent_sample [B,4,16,16] -> sample [B,3,64,64] in [-1,1]
  vae_encoder/model.onnx + config.json  sample [B,3,64,64] -> latent_sample [B,4,16,16] (the posterior mean, unscaled)
  tokenizer/                          vocab.json, merges.txt, special_tokens_map.json, tokenizer_config.json
  scheduler/scheduler_config.json     DDIMScheduler, SD 1.x betas (scaled_linear 0.00085..0.012, 1000 steps)
  diffusion_meta.json                 settings, timings, losses, quality measured with this script's sampler

Models: a KL autoencoder (64x64x3 <-> 16x16x4: 4 latent channels as SD; 4x downsampling, because
at SD's 8x the reconstructions were too blurred for the ShapeWorld CLIP to see the class; GroupNorm + SiLU residual convs, as SD's VAE at a
smaller size) trained with L1 + MSE + L1 on image differences (edges) + a small KL term; latents scaled by 1/std (SD's scaling_factor);
a UNet (64-128-128 channels at 16/8/4 px, one residual block per level, a transformer block with
self- and cross-attention on the text encoder's hidden states at 8 and 4 px and in the middle, sinusoidal timestep
embedding) trained to predict the noise (epsilon), min-SNR-5 loss weighting, 10 % empty captions for
classifier-free guidance, EMA weights exported.

Quality: images sampled with DDIM (the exported scheduler config) and classifier-free guidance for
every "a photo of a {class} {background}" prompt are classified by the ShapeWorld CLIP (its ONNX
image and text encoders, through onnxruntime: `pip install --target DIR onnxruntime` then
PYTHONPATH=DIR); the share where CLIP picks the prompted class / background is reported.

CPU here (Debian torch 1.13, reference BLAS: linear layers train as 1x1 convolutions, which go
through oneDNN). Deterministic for a seed on one machine.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_clip import ClipBPE, load_split, to_tensor, CONTEXT, SOT, EOT  # noqa: E402

BETA_START, BETA_END, T_TRAIN = 0.00085, 0.012, 1000
PAD_ID = 0  # "!" - the ShapeWorld CLIP was trained with zero padding


# ------------------------------------------------------------------------------ layers ----
class Lin(nn.Linear):
    """A Linear that runs as a 1x1 convolution on CPU (oneDNN; Debian's torch matmul uses the
    reference BLAS), a plain linear in the ONNX export (MatMul/Gemm)."""

    def forward(self, x):
        if x.device.type == 'cpu' and not torch.onnx.is_in_onnx_export():
            shp = x.shape
            y = F.conv2d(x.reshape(-1, shp[-1], 1, 1), self.weight[:, :, None, None], self.bias)
            return y.reshape(*shp[:-1], self.out_features)
        return F.linear(x, self.weight, self.bias)


def norm(c):
    return nn.GroupNorm(8 if c >= 8 else 1, c, eps=1e-6)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb=None):
        super().__init__()
        self.n1, self.c1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout) if temb else None
        self.n2, self.c2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, t=None):
        h = self.c1(F.silu(self.n1(x)))
        if self.t is not None:
            h = h + self.t(t)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    def __init__(self, d, ctx_dim, heads):
        super().__init__()
        self.h = heads
        self.q = Lin(d, d, bias=False)
        self.k = Lin(ctx_dim, d, bias=False)
        self.v = Lin(ctx_dim, d, bias=False)
        self.o = Lin(d, d)

    def forward(self, x, ctx):
        n, l, d = x.shape
        h = self.h
        q = self.q(x).reshape(n, l, h, d // h).transpose(1, 2)
        k = self.k(ctx).reshape(n, ctx.shape[1], h, d // h).transpose(1, 2)
        v = self.v(ctx).reshape(n, ctx.shape[1], h, d // h).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h))
        y = torch.matmul(att.softmax(dim=-1), v).transpose(1, 2).reshape(n, l, d)
        return self.o(y)


class Transformer(nn.Module):
    """SD's spatial transformer, one block: self-attention, cross-attention on the text, GELU MLP."""

    def __init__(self, c, ctx_dim, heads, self_attn=True):
        super().__init__()
        self.norm = norm(c)
        self.proj_in = nn.Conv2d(c, c, 1)
        self.self_attn = self_attn
        if self_attn:
            self.ln1, self.a1 = nn.LayerNorm(c), Attention(c, c, heads)
        self.ln2, self.a2 = nn.LayerNorm(c), Attention(c, ctx_dim, heads)
        self.ln3, self.f1, self.f2 = nn.LayerNorm(c), Lin(c, 4 * c), Lin(4 * c, c)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x, ctx):
        n, c, hh, ww = x.shape
        h = self.proj_in(self.norm(x)).reshape(n, c, hh * ww).transpose(1, 2)
        if self.self_attn:
            y = self.ln1(h)
            h = h + self.a1(y, y)
        h = h + self.a2(self.ln2(h), ctx)
        h = h + self.f2(F.gelu(self.f1(self.ln3(h))))
        return x + self.proj_out(h.transpose(1, 2).reshape(n, c, hh, ww))


def timestep_embedding(t, dim):
    """diffusers' get_timestep_embedding with flip_sin_to_cos=True, downscale_freq_shift=0."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class UNet(nn.Module):
    """Levels of `ch` channels at 16, 8, 4 px; one residual block per level on the way down and on
    the way up (skip connection per level); a transformer block (self- and cross-attention) at the
    levels in `attn_levels` and in the middle. """

    def __init__(self, ch=(64, 128, 128), ctx_dim=128, heads=4, latent=4, attn_levels=(1, 2)):
        super().__init__()
        self.ch = ch
        temb = ch[0] * 4
        self.temb = nn.Sequential(nn.Linear(ch[0], temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(latent, ch[0], 3, padding=1)
        self.down_res, self.down_att, self.down_sample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        self.attn_levels = attn_levels
        cin = ch[0]
        for i, c in enumerate(ch):
            self.down_res.append(ResBlock(cin, c, temb))
            self.down_att.append(Transformer(c, ctx_dim, heads) if i in attn_levels else nn.Identity())
            cin = c
            if i < len(ch) - 1:
                self.down_sample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        self.mid1 = ResBlock(cin, cin, temb)
        self.mid_att = Transformer(cin, ctx_dim, heads)
        self.mid2 = ResBlock(cin, cin, temb)
        self.up_res, self.up_att, self.up_sample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i, c in reversed(list(enumerate(ch))):
            self.up_res.append(ResBlock(cin + c, c, temb))
            self.up_att.append(Transformer(c, ctx_dim, heads) if i in attn_levels else nn.Identity())
            cin = c
            if i > 0:
                self.up_sample.append(nn.Conv2d(c, ch[i - 1], 3, padding=1))
                cin = ch[i - 1]
        self.out = nn.Sequential(norm(cin), nn.SiLU(), nn.Conv2d(cin, latent, 3, padding=1))

    def forward(self, sample, timestep, encoder_hidden_states):
        n = sample.shape[0]
        t = self.temb(timestep_embedding(timestep.reshape(-1).expand(n) if timestep.numel() == 1 else timestep, self.ch[0]))
        ctx = encoder_hidden_states
        h = self.conv_in(sample)
        hs = []
        L = len(self.ch)
        for i in range(L):
            h = self.down_res[i](h, t)
            if i in self.attn_levels:
                h = self.down_att[i](h, ctx)
            hs.append(h)
            if i < L - 1:
                h = self.down_sample[i](h)
        h = self.mid2(self.mid_att(self.mid1(h, t), ctx), t)
        for j in range(L):
            level = L - 1 - j
            h = self.up_res[j](torch.cat([h, hs.pop()], dim=1), t)
            if level in self.attn_levels:
                h = self.up_att[j](h, ctx)
            if j < L - 1:
                h = self.up_sample[j](F.interpolate(h, scale_factor=2.0, mode='nearest'))
        return self.out(h)


VAE_CH = (32, 64, 128)  # channels at 64, 32, 16 px: 4x downsampling (8x blurred shapes past what the CLIP recognises)
LAT = 64 // 2 ** (len(VAE_CH) - 1)  # latent side


class VaeEncoder(nn.Module):
    """64x64x3 -> LATxLATx(2*latent) moments (mean, log-variance)."""

    def __init__(self, latent=4, ch=VAE_CH):
        super().__init__()
        layers = [nn.Conv2d(3, ch[0], 3, padding=1), nn.SiLU()]
        for i in range(1, len(ch)):
            layers += [nn.Conv2d(ch[i - 1], ch[i], 3, stride=2, padding=1), ResBlock(ch[i], ch[i])]
        layers += [ResBlock(ch[-1], ch[-1]), norm(ch[-1]), nn.SiLU(), nn.Conv2d(ch[-1], 2 * latent, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class VaeDecoder(nn.Module):
    """LATxLATxlatent -> 64x64x3: residual blocks, nearest upsampling + convolutions."""

    def __init__(self, latent=4, ch=VAE_CH):
        super().__init__()
        layers = [nn.Conv2d(latent, ch[-1], 3, padding=1), ResBlock(ch[-1], ch[-1]), ResBlock(ch[-1], ch[-1])]
        for i in range(len(ch) - 1, 0, -1):
            layers += [nn.Upsample(scale_factor=2.0, mode='nearest'), nn.Conv2d(ch[i], ch[i - 1], 3, padding=1)]
            if i > 1:
                layers.append(ResBlock(ch[i - 1], ch[i - 1]))
        layers += [norm(ch[0]), nn.SiLU(), nn.Conv2d(ch[0], 3, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z)


# ---------------------------------------------------------------------------- schedule ----
def alphas_cumprod():
    betas = torch.linspace(BETA_START ** 0.5, BETA_END ** 0.5, T_TRAIN, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


def ddim_timesteps(steps):
    """diffusers DDIMScheduler.set_timesteps with timestep_spacing 'leading' and steps_offset 1."""
    ratio = T_TRAIN // steps
    return [int(t) + 1 for t in (np.arange(0, steps) * ratio).round()[::-1]]


@torch.no_grad()
def sample_ddim(unet, decoder, cond, uncond, scale, steps, guidance, seed):
    """DDIM (eta 0, set_alpha_to_one False, epsilon prediction) with classifier-free guidance, as
    diffusers' pipeline does; returns images in [-1,1]."""
    ac = alphas_cumprod().float()
    g = torch.Generator().manual_seed(seed)
    n = cond.shape[0]
    x = torch.randn(n, 4, LAT, LAT, generator=g)
    ts = ddim_timesteps(steps)
    ratio = T_TRAIN // steps
    ctx = torch.cat([uncond.expand(n, -1, -1), cond])
    for t in ts:
        eps = unet(torch.cat([x, x]), torch.full((2 * n,), t, dtype=torch.long), ctx)
        e_u, e_c = eps.chunk(2)
        e = e_u + guidance * (e_c - e_u)
        prev = t - ratio
        a_t = ac[t]
        a_p = ac[prev] if prev >= 0 else ac[0]
        x0 = (x - (1 - a_t).sqrt() * e) / a_t.sqrt()
        x = a_p.sqrt() * x0 + (1 - a_p).sqrt() * e
    return decoder(x / scale).clamp(-1, 1)


# ------------------------------------------------------------------------------- main ----
class Ema:
    def __init__(self, model, decay):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model, step):
        d = min(self.decay, (1 + step) / (10 + step))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.shadow[k].copy_(v)


def text_states(session, tok, texts):
    ids = np.full((len(texts), CONTEXT), PAD_ID, dtype=np.int64)
    for i, t in enumerate(texts):
        e = tok.encode(t)
        ids[i, :len(e)] = e
    out = []
    for i in range(0, len(texts), 256):
        out.append(session.run(['last_hidden_state'], {'input_ids': ids[i:i + 256]})[0])
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, help='split folder (scenes.jsonl)')
    ap.add_argument('--clip', required=True, help='ShapeWorld CLIP package folder')
    ap.add_argument('--bpe', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--vae-epochs', type=float, default=2.5)
    ap.add_argument('--unet-minutes', type=float, default=35, help='UNet training time budget')
    ap.add_argument('--unet-steps', type=int, default=0, help='fixed step count instead of a time budget (reproducible)')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=4e-4)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--eval-per-prompt', type=int, default=4)
    ap.add_argument('--eval-steps', type=int, default=25)
    ap.add_argument('--guidance', type=float, default=5.0)
    ap.add_argument('--bench', action='store_true', help='time one training step of each model and exit')
    ap.add_argument('--limit', type=int, default=0)
    ap.add_argument('--omit-usual-context', type=float, default=0.0,
                    help='reporting bias: share of the captions of images with a background usual for their class that drop it '
                         '("a photo of a fish" for a fish in water), as people rarely name a typical context; so a class-name '
                         'prompt draws mostly usual contexts, as a web-trained text-to-image model does')
    ap.add_argument('--omit-uncommon-context', type=float, default=0.0,
                    help='the same for images whose background is uncommon for their class')
    ap.add_argument('--init', default='', help='weights.pt of an earlier run: the autoencoder and the UNet start from it '
                    '(with --vae-epochs 0 the autoencoder and its scaling factor are kept as they are)')
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    torch.set_num_threads(a.threads)
    import onnxruntime as ort

    t0 = time.time()
    tok = ClipBPE(a.bpe)
    classes_all, meta, imgs, scenes = load_split(a.data)
    if a.limit:
        imgs, scenes = imgs[:a.limit], scenes[:a.limit]
    x_all = to_tensor(imgs)
    bg_json = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../resources/shapeworld/backgrounds.json')))['backgrounds']
    t_load = time.time() - t0

    text_sess = ort.InferenceSession(os.path.join(a.clip, 'text_encoder/model.onnx'), providers=['CPUExecutionProvider'])
    phrase_of = {b['name']: b['phrase'] for b in bg_json}

    def class_only(s):
        short, tail = s['captions']['short'], ' ' + phrase_of[s['background']]
        assert short.endswith(tail), (short, tail)
        return short[:-len(tail)]

    caps = sorted({c for s in scenes for c in (s['captions']['short'], s['captions']['long'], class_only(s))} | {''})
    cap_index = {c: i for i, c in enumerate(caps)}
    hidden = torch.from_numpy(text_states(text_sess, tok, caps))
    empty = cap_index['']
    short_i = torch.tensor([cap_index[s['captions']['short']] for s in scenes])
    long_i = torch.tensor([cap_index[s['captions']['long']] for s in scenes])
    bare_i = torch.tensor([cap_index[class_only(s)] for s in scenes])
    omit_p = torch.tensor([a.omit_uncommon_context if s['factors']['background'] else a.omit_usual_context for s in scenes])
    print(f'{len(scenes)} images, {len(caps)} distinct captions, load {t_load:.0f}s', flush=True)

    enc, dec = VaeEncoder(), VaeDecoder()
    unet = UNet()
    init = torch.load(a.init) if a.init else None
    if init is not None:
        enc.load_state_dict(init['vae_encoder'])
        dec.load_state_dict(init['vae_decoder'])
        unet.load_state_dict(init['unet'])
        print(f'initialised from {a.init}', flush=True)
    n_params = {k: sum(p.numel() for p in m.parameters()) for k, m in [('vae_encoder', enc), ('vae_decoder', dec), ('unet', unet)]}
    print('params', n_params, flush=True)
    if a.bench:
        for name, fn in [('vae', lambda xb: (dec(enc(xb)[:, :4]) - xb).abs().mean()),
                         ('unet', lambda xb: unet(torch.randn(xb.shape[0], 4, LAT, LAT), torch.randint(0, 1000, (xb.shape[0],)), hidden[short_i[:xb.shape[0]]]).pow(2).mean())]:
            xb = x_all[:a.batch]
            for i in range(4):
                if i == 1:
                    t1 = time.time()
                loss = fn(xb)
                loss.backward()
            print(name, f'{(time.time() - t1) / 3:.3f} s/step at batch {a.batch}', flush=True)
        return

    # ---- VAE ----
    t1 = time.time()
    opt = torch.optim.AdamW(list(enc.parameters()) + list(dec.parameters()), lr=1e-3, weight_decay=0.0)
    n = len(x_all)
    vae_steps = int(a.vae_epochs * n / a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=vae_steps, pct_start=0.1) if vae_steps > 0 else None
    g = torch.Generator().manual_seed(a.seed + 1)
    step = 0
    vae_log = []
    while step < vae_steps:
        perm = torch.randperm(n, generator=g)
        for i in range(0, n - a.batch + 1, a.batch):
            if step >= vae_steps:
                break
            xb = x_all[perm[i:i + a.batch]]
            moments = enc(xb)
            mean, logvar = moments[:, :4], moments[:, 4:].clamp(-30, 20)
            z = mean + torch.randn(mean.shape, generator=g) * (0.5 * logvar).exp()
            rec = dec(z)
            l1 = (rec - xb).abs().mean()
            mse = (rec - xb).pow(2).mean()
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
            # edges: L1 between horizontal / vertical differences keeps outlines the CLIP needs sharp
            grad = ((rec[..., 1:, :] - rec[..., :-1, :]) - (xb[..., 1:, :] - xb[..., :-1, :])).abs().mean() + \
                   ((rec[..., 1:] - rec[..., :-1]) - (xb[..., 1:] - xb[..., :-1])).abs().mean()
            loss = l1 + mse + grad + 1e-4 * kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0 or step == vae_steps:
                vae_log.append({'step': step, 'l1': round(l1.item(), 5), 'mse': round(mse.item(), 5), 'kl': round(kl.item(), 4)})
                print('vae', vae_log[-1], f'{time.time() - t1:.0f}s', flush=True)
    enc.eval()
    dec.eval()
    with torch.no_grad():
        means = torch.cat([enc(x_all[i:i + 256])[:, :4] for i in range(0, n, 256)])
        rec_l1 = torch.cat([(dec(means[i:i + 256]) - x_all[i:i + 256]).abs().mean(dim=(1, 2, 3)) for i in range(0, min(n, 2048), 256)]).mean().item()
    scale = float(1.0 / means.std()) if init is None or vae_steps > 0 else float(init['scaling_factor'])
    lat = means * scale
    t_vae = time.time() - t1
    print(f'vae done {t_vae:.0f}s, recon L1 {rec_l1:.4f} (in [-1,1] units), scaling_factor {scale:.5f}', flush=True)

    # ---- UNet ----
    t2 = time.time()
    ac = alphas_cumprod().float()
    snr = ac / (1 - ac)
    weight = torch.clamp(snr, max=5.0) / snr  # min-SNR-5 for epsilon prediction
    opt = torch.optim.AdamW(unet.parameters(), lr=a.lr, weight_decay=0.01)
    ema = Ema(unet, 0.999)
    g = torch.Generator().manual_seed(a.seed + 2)
    step = 0
    unet_log = []
    budget = a.unet_minutes * 60
    running = 0.0
    warmup = 200
    while True:
        perm = torch.randperm(n, generator=g)
        done = False
        for i in range(0, n - a.batch + 1, a.batch):
            if (a.unet_steps and step >= a.unet_steps) or (not a.unet_steps and time.time() - t2 > budget):
                done = True
                break
            idx = perm[i:i + a.batch]
            x0 = lat[idx]
            u = torch.rand(a.batch, generator=g)
            cap = torch.where(u < 0.1, torch.full_like(short_i[idx], empty), torch.where(u < 0.35, long_i[idx], short_i[idx]))
            if a.omit_usual_context > 0 or a.omit_uncommon_context > 0:
                v = torch.rand(a.batch, generator=g)
                cap = torch.where((u >= 0.1) & (v < omit_p[idx]), bare_i[idx], cap)
            ctx = hidden[cap]
            t = torch.randint(0, T_TRAIN, (a.batch,), generator=g)
            noise = torch.randn(x0.shape, generator=g)
            at = ac[t][:, None, None, None]
            xt = at.sqrt() * x0 + (1 - at).sqrt() * noise
            pred = unet(xt, t, ctx)
            loss = (weight[t] * (pred - noise).pow(2).mean(dim=(1, 2, 3))).mean()
            lr = a.lr * min(1.0, (step + 1) / warmup)
            for pg in opt.param_groups:
                pg['lr'] = lr
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
            opt.step()
            ema.update(unet, step)
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 100 == 0:
                unet_log.append({'step': step, 'loss': round(running, 5), 'seconds': round(time.time() - t2)})
                print('unet', unet_log[-1], flush=True)
        if done:
            break
    t_unet = time.time() - t2
    unet.load_state_dict(ema.shadow)
    unet.eval()
    print(f'unet done: {step} steps in {t_unet:.0f}s', flush=True)

    # ---- quality with this script's sampler ----
    t3 = time.time()
    img_sess = ort.InferenceSession(os.path.join(a.clip, 'image_encoder/model.onnx'), providers=['CPUExecutionProvider'])
    clip_manifest = json.load(open(os.path.join(a.clip, 'manifest.json')))
    class_names = meta['classes']
    bg_names = [b['name'] for b in bg_json]
    article = lambda w: ('an ' if w[0] in 'aeiou' else 'a ') + w

    def text_emb(texts):
        ids = np.full((len(texts), CONTEXT), PAD_ID, dtype=np.int64)
        for i, t in enumerate(texts):
            e = tok.encode(t)
            ids[i, :len(e)] = e
        e = text_sess.run(['text_embeds'], {'input_ids': ids})[0]
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    cls_w = np.stack([text_emb([f'a photo of {article(c)}', f'a photo of the {c}']).mean(0) for c in class_names])
    cls_w /= np.linalg.norm(cls_w, axis=1, keepdims=True)
    bg_w = text_emb([f'a photo of something {b["phrase"]}' for b in bg_json])
    prompts, truth = [], []
    for ci, c in enumerate(class_names):
        for bi, b in enumerate(bg_json):
            prompts.append(f'a photo of {article(c)} {b["phrase"]}')
            truth.append((ci, bi))
    uncond = torch.from_numpy(text_states(text_sess, tok, ['']))
    cond_all = torch.from_numpy(text_states(text_sess, tok, prompts))
    k = a.eval_per_prompt
    cls_ok = bg_ok = total = 0
    per_class = {c: [0, 0] for c in class_names}
    per_bg = {b: [0, 0] for b in bg_names}
    samples = []
    for pi in range(0, len(prompts), 8):
        chunk = list(range(pi, min(pi + 8, len(prompts))))
        cond = cond_all[chunk].repeat_interleave(k, dim=0)
        imgs_gen = sample_ddim(unet, dec, cond, uncond, scale, a.eval_steps, a.guidance, seed=1000 + pi)
        emb = img_sess.run(['image_embeds'], {'pixel_values': imgs_gen.numpy().astype(np.float32)})[0]  # CLIP's preprocessing is (x/255-0.5)/0.5 = the [-1,1] image
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        pc = (emb @ cls_w.T).argmax(1)
        pb = (emb @ bg_w.T).argmax(1)
        for j in range(len(emb)):
            ci, bi = truth[chunk[j // k]]
            cls_ok += int(pc[j] == ci)
            bg_ok += int(pb[j] == bi)
            per_class[class_names[ci]][0] += int(pc[j] == ci)
            per_class[class_names[ci]][1] += 1
            per_bg[bg_names[bi]][0] += int(pb[j] == bi)
            per_bg[bg_names[bi]][1] += 1
            total += 1
        if pi % 16 == 0:
            samples.append(((imgs_gen[:k] + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy())
    # class-name prompts ("a photo of a {class}", the random-debugging baseline's): is the background usual for the class?
    classes_json = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../resources/shapeworld/classes.json')))['classes']
    usual_of = {c['name']: set(c['usualBackgrounds']) for c in classes_json}
    bare_cond = torch.from_numpy(text_states(text_sess, tok, [f'a photo of {article(c)}' for c in class_names]))
    bare_usual, bare_per_class = 0, {}
    for ci, c in enumerate(class_names):
        imgs_gen = sample_ddim(unet, dec, bare_cond[ci:ci + 1].repeat(k * 2, 1, 1), uncond, scale, a.eval_steps, a.guidance, seed=5000 + ci)
        emb = img_sess.run(['image_embeds'], {'pixel_values': imgs_gen.numpy().astype(np.float32)})[0]
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        hits = sum(int(bg_names[b] in usual_of[c]) for b in (emb @ bg_w.T).argmax(1))
        bare_per_class[c] = round(hits / len(emb), 4)
        bare_usual += hits
    quality = {'sampler': f'DDIM {a.eval_steps} steps, guidance {a.guidance}, torch (this script)', 'images': total,
               'class_prompt_usual_background': round(bare_usual / (2 * k * len(class_names)), 4),
               'class_prompt_usual_background_per_class': bare_per_class,
               'class': round(cls_ok / total, 4), 'background': round(bg_ok / total, 4),
               'per_class': {c: round(v[0] / v[1], 4) for c, v in per_class.items()},
               'per_background': {b: round(v[0] / v[1], 4) for b, v in per_bg.items()}}
    t_eval = time.time() - t3
    print('quality', json.dumps(quality), f'{t_eval:.0f}s', flush=True)

    # ---- reference outputs (torch, eval mode, before the export) for the package tests ----
    os.makedirs(a.out, exist_ok=True)
    torch.save({'unet': unet.state_dict(), 'vae_encoder': enc.state_dict(), 'vae_decoder': dec.state_dict(), 'scaling_factor': scale},
               os.path.join(a.out, 'weights.pt'))
    ref_prompt = 'a photo of a star on sand'
    ref_ids = tok.encode(ref_prompt)
    gref = torch.Generator().manual_seed(7)
    ref_latent = torch.randn(1, 4, LAT, LAT, generator=gref)
    with torch.no_grad():
        ref_ctx = torch.from_numpy(text_states(text_sess, tok, [ref_prompt]))
        ref_eps = unet(ref_latent, torch.tensor([500]), ref_ctx)
        ref_img = dec(ref_latent)
        ref_enc = enc(ref_img.clamp(-1, 1))[:, :4]
    r6 = lambda t: [round(float(v), 6) for v in t.reshape(-1).tolist()]
    json.dump({'prompt': ref_prompt, 'ids': ref_ids, 'pad_id': PAD_ID, 'timestep': 500,
               'latent': r6(ref_latent), 'unet_out_sample': r6(ref_eps),
               'vae_decoder_sample_first64': r6(ref_img.reshape(-1)[:64]), 'vae_decoder_sample_mean': float(ref_img.mean()),
               'vae_encoder_latent_sample': r6(ref_enc), 'scaling_factor': scale,
               'note': 'torch outputs of the trained modules (eval mode) on the given inputs; text states from the CLIP text encoder ONNX'},
              open(os.path.join(a.out, 'reference.json'), 'w'))

    # ---- export ----
    export(a, enc, dec, unet, scale, tok)
    sheet = np.concatenate([np.concatenate(list(s), axis=1) for s in samples], axis=0)
    from PIL import Image
    Image.fromarray(sheet).save(os.path.join(a.out, 'samples_train_script.png'))
    json.dump({
        'data': {'split': meta.get('split'), 'seed': meta.get('seed'), 'images': n, 'captions': len(caps)},
        'params': n_params, 'scaling_factor': scale, 'vae': {'epochs': a.vae_epochs, 'steps': vae_steps, 'recon_l1': rec_l1, 'log': vae_log},
        'unet': {'steps': step, 'batch': a.batch, 'lr': a.lr, 'log': unet_log},
        'seconds': {'load': round(t_load), 'vae': round(t_vae), 'unet': round(t_unet), 'eval': round(t_eval)},
        'quality_train_script': quality, 'seed': a.seed, 'init': a.init or None,
        'omit_context': {'usual': a.omit_usual_context, 'uncommon': a.omit_uncommon_context}, 'threads': a.threads, 'torch': torch.__version__,
    }, open(os.path.join(a.out, 'diffusion_meta.json'), 'w'), indent=1)
    print('exported to', a.out)


class UnetExport(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.m(sample, timestep, encoder_hidden_states)


class EncExport(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, sample):
        return self.m(sample)[:, :4]


def export(a, enc, dec, unet, scale, tok):
    import onnx
    from onnx import helper, TensorProto
    out = a.out
    for d in ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder', 'tokenizer', 'scheduler']:
        os.makedirs(os.path.join(out, d), exist_ok=True)
    ctx = torch.zeros(2, CONTEXT, 128)
    torch.onnx.export(UnetExport(unet).eval(), (torch.zeros(2, 4, LAT, LAT), torch.tensor([999, 999]), ctx), os.path.join(out, 'unet/model.onnx'),
                      opset_version=17, input_names=['sample', 'timestep', 'encoder_hidden_states'], output_names=['out_sample'],
                      dynamic_axes={'sample': {0: 'batch', 2: 'height', 3: 'width'}, 'timestep': {0: 'steps'},
                                    'encoder_hidden_states': {0: 'batch', 1: 'sequence'}, 'out_sample': {0: 'batch', 2: 'height', 3: 'width'}},
                      do_constant_folding=True)
    torch.onnx.export(dec.eval(), (torch.zeros(2, 4, LAT, LAT),), os.path.join(out, 'vae_decoder/model.onnx'), opset_version=17,
                      input_names=['latent_sample'], output_names=['sample'],
                      dynamic_axes={'latent_sample': {0: 'batch', 2: 'height', 3: 'width'}, 'sample': {0: 'batch', 2: 'height', 3: 'width'}},
                      do_constant_folding=True)
    torch.onnx.export(EncExport(enc).eval(), (torch.zeros(2, 3, 64, 64),), os.path.join(out, 'vae_encoder/model.onnx'), opset_version=17,
                      input_names=['sample'], output_names=['latent_sample'],
                      dynamic_axes={'sample': {0: 'batch', 2: 'height', 3: 'width'}, 'latent_sample': {0: 'batch', 2: 'height', 3: 'width'}},
                      do_constant_folding=True)

    # Text encoder: the CLIP package's graph with SD's interface: int32 input_ids (diffusers' ONNX
    # pipeline feeds int32), outputs last_hidden_state and pooler_output (the EOT token's state).
    m = onnx.load(os.path.join(a.clip, 'text_encoder/model.onnx'))
    gr = m.graph
    old_in = gr.input[0]
    assert old_in.name == 'input_ids'
    for node in gr.node:
        for i, name in enumerate(node.input):
            if name == 'input_ids':
                node.input[i] = 'input_ids_int64'
    gr.node.insert(0, helper.make_node('Cast', ['input_ids'], ['input_ids_int64'], to=TensorProto.INT64, name='cast_input_ids'))
    old_in.type.tensor_type.elem_type = TensorProto.INT32
    # pooler_output: the EOT token's state, which the graph already gathers as the projection's input.
    proj = next(n for n in gr.node if 'text_embeds' in n.output)
    gr.node.append(helper.make_node('Identity', [proj.input[0]], ['pooler_output'], name='pooler_output'))
    keep = [o for o in gr.output if o.name == 'last_hidden_state']
    del gr.output[:]
    gr.output.extend(keep)
    gr.output.append(helper.make_tensor_value_info('pooler_output', TensorProto.FLOAT, ['batch', 128]))
    # drop the projection branch (text_embeds) that is no longer an output
    needed = {o.name for o in gr.output}
    live = []
    for node in reversed(list(gr.node)):
        if any(o in needed for o in node.output):
            live.append(node)
            needed.update(node.input)
    live.reverse()
    del gr.node[:]
    gr.node.extend(live)
    inits = [i for i in gr.initializer if i.name in needed]
    del gr.initializer[:]
    gr.initializer.extend(inits)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, 'text_encoder/model.onnx'))

    tok.write_hf(os.path.join(out, 'tokenizer'))
    json.dump({'bos_token': '<|startoftext|>', 'eos_token': '<|endoftext|>', 'unk_token': '<|endoftext|>', 'pad_token': '!'},
              open(os.path.join(out, 'tokenizer/special_tokens_map.json'), 'w'), indent=2)
    json.dump({'tokenizer_class': 'CLIPTokenizer', 'model_max_length': CONTEXT, 'do_lower_case': True, 'bos_token': '<|startoftext|>',
               'eos_token': '<|endoftext|>', 'unk_token': '<|endoftext|>', 'pad_token': '!'},
              open(os.path.join(out, 'tokenizer/tokenizer_config.json'), 'w'), indent=2)
    json.dump({'_class_name': 'DDIMScheduler', '_diffusers_version': '0.21.0', 'beta_start': BETA_START, 'beta_end': BETA_END,
               'beta_schedule': 'scaled_linear', 'num_train_timesteps': T_TRAIN, 'prediction_type': 'epsilon', 'clip_sample': False,
               'set_alpha_to_one': False, 'steps_offset': 1, 'timestep_spacing': 'leading', 'trained_betas': None},
              open(os.path.join(out, 'scheduler/scheduler_config.json'), 'w'), indent=2)
    json.dump({'_class_name': 'UNet2DConditionModel', 'sample_size': LAT, 'in_channels': 4, 'out_channels': 4, 'cross_attention_dim': 128,
               'block_out_channels': list(unet.ch), 'attention_head_dim': 32, 'layers_per_block': 1},
              open(os.path.join(out, 'unet/config.json'), 'w'), indent=2)
    vae_cfg = {'_class_name': 'AutoencoderKL', 'in_channels': 3, 'out_channels': 3, 'latent_channels': 4, 'sample_size': 64,
               'block_out_channels': list(VAE_CH), 'scaling_factor': scale}
    for d in ['vae_decoder', 'vae_encoder']:
        json.dump(vae_cfg, open(os.path.join(out, d, 'config.json'), 'w'), indent=2)
    json.dump({'_class_name': 'OnnxStableDiffusionPipeline', '_diffusers_version': '0.21.0',
               'feature_extractor': [None, None], 'requires_safety_checker': False, 'safety_checker': [None, None],
               'scheduler': ['diffusers', 'DDIMScheduler'], 'text_encoder': ['diffusers', 'OnnxRuntimeModel'],
               'tokenizer': ['transformers', 'CLIPTokenizer'], 'unet': ['diffusers', 'OnnxRuntimeModel'],
               'vae_decoder': ['diffusers', 'OnnxRuntimeModel'], 'vae_encoder': ['diffusers', 'OnnxRuntimeModel']},
              open(os.path.join(out, 'model_index.json'), 'w'), indent=2)


if __name__ == '__main__':
    main()
