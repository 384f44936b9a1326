"""Model definitions shared by export_models.py and torch_bench.py (FactorLab `npm run bench:gpu`).

Both scripts build the same architectures with random weights, so the ONNX files that FactorLab runs
and the modules that PyTorch runs are the same networks.

- resnet50: torchvision.models.resnet50(weights=None).
- clip-vit-b32: the CLIP ViT-B/32 image tower (OpenAI CLIP's VisionTransformer) written with plain
  torch modules: 32x32 patch conv without bias, class token, learned positions for 7x7+1 tokens,
  ln_pre, 12 pre-LN residual blocks (width 768, 12 heads, MLP 3072 with QuickGELU), ln_post on the
  class token, projection 768 -> 512. Random weights; no internet, no transformers package.
  Attention uses torch's scaled_dot_product_attention where it exists (torch >= 2.0, the fast
  path PyTorch users get) and the plain matmul-softmax-matmul form otherwise and while exporting to
  ONNX (which onnxruntime fuses by itself).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = ('resnet50', 'clip-vit-b32')
IMAGE_SIZE = 224


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.in_proj = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x):  # x: [B, L, D]
        b, l, d = x.shape
        h = self.heads
        qkv = self.in_proj(x).reshape(b, l, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B, H, L, Dh]
        exporting = torch.onnx.is_in_onnx_export()
        if hasattr(F, 'scaled_dot_product_attention') and not exporting:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            scale = (d // h) ** -0.5
            a = torch.softmax(torch.matmul(q * scale, k.transpose(-2, -1)), dim=-1)
            o = torch.matmul(a, v)
        return self.out_proj(o.transpose(1, 2).reshape(b, l, d))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), QuickGELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class ClipVisionTransformer(nn.Module):
    def __init__(self, image_size=224, patch=32, width=768, layers=12, heads=12, output_dim=512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        scale = width ** -0.5
        grid = image_size // patch
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):  # x: [B, 3, 224, 224]
        x = self.conv1(x).flatten(2).transpose(1, 2)  # [B, 49, 768]
        cls = self.class_embedding.to(x.dtype).reshape(1, 1, -1).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.blocks(self.ln_pre(x))
        return self.ln_post(x[:, 0, :]) @ self.proj  # [B, 512]


def build(name):
    torch.manual_seed(0)
    if name == 'resnet50':
        import torchvision
        return torchvision.models.resnet50(weights=None).eval()
    if name == 'clip-vit-b32':
        return ClipVisionTransformer().eval()
    raise SystemExit(f'unknown model {name!r}; one of {", ".join(MODELS)}')
