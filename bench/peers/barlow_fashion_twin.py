#!/usr/bin/python3
"""PyTorch twin of the method table's Barlow Twins row on Fashion-MNIST (issue 11).

The table's row (`deno task table --datasets fashion-mnist --methods barlow-twins --recipe
solo-cifar`, eval/method_table.ts) rebuilt in PyTorch, to tell an implementation gap from the
method's own place on this encoder and budget:

- encoder: the ConvNet 16-32-64 of simclr_mnist_twin.py (per stage a 3x3 conv and a 3x3
  stride-2 conv without bias, BatchNorm eps 1e-5 momentum 0.1, ReLU, TF "same" padding), PyTorch's
  default conv init (selfsup's `convNet` default `init: "pytorch"`);
- projector: methods/_redundancy.ts with `scaledProjector` (the table's): Linear(64, 256, no bias)
  -> BN -> ReLU -> Linear(256, 256, no bias) -> BN -> ReLU -> Linear(256, 256, no bias); BN eps
  1e-5, momentum 0.1 (Keras 0.9), affine; dense kernels glorot-uniform (tfjs' default);
- each view through encoder and projector on its own (its own BatchNorm batch), as `embed` does;
- loss: losses/barlow_twins_loss.ts = the paper's Algorithm 1 (each dimension standardized over
  the batch with the biased variance + 1e-5, C = z1n^T z2n / n, sum (1 - C_ii)^2 + lambda
  sum_{i!=j} C_ij^2), lambda 5e-3, times `--scale-loss` (solo-cifar: 0.1);
- views: `fashionAugment()` (random resized crop 35-100 %, aspect 3/4-4/3; left-right flip p 0.5;
  brightness / contrast 0.4 in random order, p 0.8), the crop and jitter ops of
  simclr_mnist_twin.py, which match selfsup's (bench/RESULTS.md, "Learning gap");
- optimizer: train/lars.ts as solo-cifar resolves it at batch 64 (`--lars ours`): lr 0.075
  (0.3 x 64/256), momentum 0.9, wd 1e-4 added to the gradient of every kernel, trust 0.02, local
  rate min(0.02 ||w|| / ||g + wd w||, lr), BN parameters neither decayed nor adapted, buffer
  v = 0.9 v + local_lr g, w -= v; cosine from a linear 10-step warm-up to 0; `--lars solo` is
  solo-learn's solo/utils/lars.py instead (trust 0.02 ||w|| / (||g|| + wd ||w||), the lr applied
  after the momentum buffer);
- read-out: eval/method_table.ts's: the 4 x 4 x 64 map before the global pooling, in eval mode
  (moving statistics), cosine kNN with votes exp(sim / 0.1) at k = 20 and 200, the 60k training
  images as bank and the 10k test images as queries; with `--probe` a linear probe on
  standardized features (Adam lr 1e-2, batch 256, 10 epochs: close to, not the same as,
  eval/linear_probe.ts).

Fashion-MNIST comes from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist, the
files data/fashion_mnist.ts reads). Run from the repository root:

    /usr/bin/python3 bench/peers/barlow_fashion_twin.py --seed 0 --out /tmp/twin-s0.json

Prints one JSON line per 50 steps (loss, its on- and off-diagonal parts, zStd, lr) and a final
JSON summary (also written to --out).
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simclr_mnist_twin as base  # noqa: E402  (ConvNet, init, crop and jitter ops)

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = struct.unpack(">I", data[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def load_fashion(split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(FASHION_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(FASHION_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    return images.float().div(255).unsqueeze(1), labels.long()  # [N, 1, 28, 28] in [0, 1]


# ---------------------------------------------------------------- views (fashionAugment)


def hflip(x, gen, p=0.5):
    mask = (torch.rand(x.shape[0], generator=gen) < p).view(-1, 1, 1, 1)
    return torch.where(mask, x.flip(-1), x)


def fashion_augment(x, gen):
    x = base.random_resized_crop(x, gen, scale=(0.35, 1.0))
    x = hflip(x, gen)
    return base.with_p(base.color_jitter, 0.8, x, gen)


# ---------------------------------------------------------------- nets, loss


def make_projector(dim, width, bn_momentum=0.1):
    return nn.Sequential(
        nn.Linear(dim, width, bias=False),
        nn.BatchNorm1d(width, eps=1e-5, momentum=bn_momentum),
        nn.ReLU(inplace=True),
        nn.Linear(width, width, bias=False),
        nn.BatchNorm1d(width, eps=1e-5, momentum=bn_momentum),
        nn.ReLU(inplace=True),
        nn.Linear(width, width, bias=False),
    )


def standardize(z):
    return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)


def barlow_parts(z1, z2):
    """(sum (1 - C_ii)^2, sum_{i != j} C_ij^2) of the paper's Algorithm 1."""
    n = z1.shape[0]
    c = standardize(z1).t() @ standardize(z2) / n
    diag = torch.diagonal(c)
    on = (1 - diag).pow(2).sum()
    off = c.pow(2).sum() - diag.pow(2).sum()
    return on, off


def z_std(z):
    """selfsup's collapse monitor: std over the batch of the L2-normalized rows, mean over dims."""
    return F.normalize(z, dim=1).var(0, unbiased=False).sqrt().mean().item()


# ---------------------------------------------------------------- LARS


class Lars:
    """`ours`: train/lars.ts with clip; `solo`: solo-learn's solo/utils/lars.py (clip_lr,
    exclude_bias_n_norm). Parameters of rank <= 1 (BN's gamma and beta here) are neither decayed
    nor adapted in both."""

    def __init__(self, params, momentum, weight_decay, eta, clip=True, kind="ours"):
        self.params = list(params)
        self.momentum, self.wd, self.eta, self.clip, self.kind = momentum, weight_decay, eta, clip, kind
        self.bufs = [torch.zeros_like(p) for p in self.params]
        self.local = {}

    @torch.no_grad()
    def step(self, lr):
        for i, p in enumerate(self.params):
            g = p.grad
            adapted = p.dim() > 1
            if self.kind == "ours":
                local = lr
                if adapted:
                    if self.wd > 0:
                        g = g + self.wd * p
                    wn, gn = p.norm(), g.norm()
                    if wn > 0 and gn > 0:
                        trust = (self.eta * wn / gn).item()
                        local = min(trust, lr) if self.clip else trust * lr
                self.local[i] = local
                self.bufs[i].mul_(self.momentum).add_(g, alpha=local)
                p.sub_(self.bufs[i])
            else:  # solo-learn
                d = g
                ratio = 1.0
                if adapted:
                    wn, gn = p.norm(), g.norm()
                    if wn != 0 and gn != 0:
                        ratio = (self.eta * wn / (gn + self.wd * wn + 1e-8)).item()
                        if self.clip:
                            ratio = min(ratio / lr, 1.0)
                    d = g + self.wd * p
                    d = d * ratio
                self.local[i] = lr * ratio
                self.bufs[i].mul_(self.momentum).add_(d)
                p.sub_(self.bufs[i], alpha=lr)


def lr_at(step, lr, total, warmup):
    """train/schedule.ts's cosine: linear warm-up lr (step + 1) / warmup, then cosine to 0."""
    if step < warmup:
        return lr * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr * 0.5 * (1 + math.cos(math.pi * t))


# ---------------------------------------------------------------- read-out


@torch.no_grad()
def map_features(encoder, images, kind="map"):
    encoder.eval()
    out = []
    for i in range(0, len(images), 500):
        m = encoder.body(images[i : i + 500])
        out.append(m.flatten(1) if kind == "map" else m.mean(dim=(2, 3)))
    encoder.train()
    return torch.cat(out)


@torch.no_grad()
def knn(bank, bank_y, queries, query_y, ks=(20, 200), tau=0.1, classes=10):
    bank = F.normalize(bank, dim=1)
    queries = F.normalize(queries, dim=1)
    correct = {k: 0 for k in ks}
    kmax = max(ks)
    for i in range(0, len(queries), 1000):
        sim = queries[i : i + 1000] @ bank.t()
        values, idx = sim.topk(kmax, dim=1)  # sorted
        labels = bank_y[idx]
        for k in ks:
            w = torch.exp(values[:, :k] / tau)
            votes = torch.zeros(len(w), classes).scatter_add_(1, labels[:, :k], w)
            correct[k] += (votes.argmax(1) == query_y[i : i + 1000]).sum().item()
    return {k: correct[k] / len(queries) for k in ks}


def linear_probe(train_f, train_y, test_f, test_y, seed, epochs=10):
    mean, sd = train_f.mean(0), torch.sqrt(train_f.var(0, unbiased=False) + 1e-6)
    a, b = (train_f - mean) / sd, (test_f - mean) / sd
    gen = torch.Generator().manual_seed(seed)
    head = nn.Linear(a.shape[1], 10)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(epochs):
        order = torch.randperm(len(a), generator=gen)
        for i in range(0, len(a), 256):
            j = order[i : i + 256]
            loss = F.cross_entropy(head(a[j]), train_y[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return (head(b).argmax(1) == test_y).float().mean().item()


def effective_rank(f):
    """exp(entropy) of the centred features' normalized singular values squared, and the
    participation ratio (sum s^2)^2 / sum s^4."""
    f = f - f.mean(0)
    s2 = torch.linalg.svdvals(f).pow(2)
    p = s2 / s2.sum()
    ent = -(p * torch.log(p.clamp(min=1e-30))).sum()
    return {"effRank": math.exp(ent.item()), "participation": (s2.sum() ** 2 / s2.pow(2).sum()).item()}


# ---------------------------------------------------------------- parity with selfsup


def parity(path, scale_loss=0.1, lam=5e-3, double=False):
    """Loads selfsup's weights and views (barlow_fashion_parity_dump.ts), runs the same two LARS
    steps here (in float64 with `double`), and prints the differences of loss, gradients, weights
    and moving statistics."""
    d = json.load(open(path))
    if double:
        torch.set_default_dtype(torch.float64)
    encoder = base.ConvNet(widths=(16, 32, 64))
    projector = make_projector(encoder.dim, 256)
    params, buffers = base.load_selfsup_weights((encoder, projector), d["initial"])
    v1, v2 = [
        torch.tensor(v, dtype=torch.float32).view(64, 28, 28, 1).permute(0, 3, 1, 2)
        .to(torch.get_default_dtype()) for v in d["views"]
    ]
    opt = Lars(params, 0.9, 1e-4, 0.02, clip=True, kind="ours")
    report = {"backend": d.get("backend"), "torchDtype": str(torch.get_default_dtype())}
    for i in range(2):
        z1, z2 = projector(encoder(v1)), projector(encoder(v2))
        on, off = barlow_parts(z1, z2)
        loss = scale_loss * (on + lam * off)
        for q in params:
            q.grad = None
        loss.backward()
        report[f"loss{i}"] = {"selfsup": d["losses"][i], "torch": loss.item()}
        if i == 0:
            per = {}
            for q, g in zip(params, d["grads"]):
                ours = base.tf_layout(q, g["values"]).to(q.dtype)
                per[g["name"]] = ((ours - q.grad).norm() / q.grad.norm().clamp(min=1e-12)).item()
            report["gradRelDiff"] = per  # ||selfsup - torch|| / ||torch|| per variable
            report["gradMaxRelDiff"] = max(per.values())
        opt.step(d["lr"])
    after_train, after_fixed = base.split_trainable(d["after"])
    report["weightsAfter2StepsMaxRelDiff"] = max(
        ((base.tf_layout(q, w["values"]).to(q.dtype) - q.detach()).norm() / q.detach().norm()).item()
        for q, w in zip(params, after_train)
    )
    report["bnMovingStatsMaxRelDiff"] = max(
        ((base.tf_layout(q, w["values"]).to(q.dtype) - q).abs().max() / q.abs().max()).item()
        for q, w in zip(buffers, after_fixed)
    )
    print(json.dumps(report, indent=2))


# ---------------------------------------------------------------- run


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.3, help="per 256 images, scaled linearly")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--eta", type=float, default=0.02)
    p.add_argument("--lars", choices=["ours", "solo"], default="ours")
    p.add_argument("--no-clip", action="store_true")
    p.add_argument("--warmup-fraction", type=float, default=0.01)
    p.add_argument("--lambda", dest="lam", type=float, default=5e-3)
    p.add_argument("--scale-loss", type=float, default=0.1)
    p.add_argument("--width", type=int, default=256, help="projector width (4 x 64)")
    p.add_argument("--init", choices=["torch-conv", "torch"], default="torch-conv",
                   help="torch-conv: selfsup's (PyTorch convs, glorot dense); torch: PyTorch's")
    p.add_argument("--probe", action="store_true", help="also a linear probe on the map")
    p.add_argument("--random-init", action="store_true", help="also the random-init map's kNN")
    p.add_argument("--raw", action="store_true", help="also raw pixels' kNN (a check of data and kNN)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--out", help="write the summary JSON here")
    p.add_argument("--parity", help="compare two steps with selfsup's dump (see parity())")
    p.add_argument("--double", action="store_true", help="with --parity: the twin in float64")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.parity:
        return parity(a.parity, a.scale_loss, a.lam, a.double)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    train_x, train_y = load_fashion("train")
    test_x, test_y = load_fashion("test")
    encoder = base.ConvNet(widths=(16, 32, 64))
    projector = make_projector(encoder.dim, a.width)
    base.reinit([encoder, projector], a.init, gen)
    params = list(encoder.parameters()) + list(projector.parameters())
    lr = a.lr * a.batch_size / 256
    warmup = round(a.warmup_fraction * a.steps)
    opt = Lars(params, a.momentum, a.weight_decay, a.eta, clip=not a.no_clip, kind=a.lars)
    config = {"lr": lr, "warmup": warmup, "momentum": a.momentum, "wd": a.weight_decay,
              "eta": a.eta, "lars": a.lars, "clip": not a.no_clip, "lambda": a.lam,
              "scaleLoss": a.scale_loss, "width": a.width, "init": a.init, "steps": a.steps,
              "batch": a.batch_size, "seed": a.seed}
    print(json.dumps({"config": config}), flush=True)

    knn_init = {20: None, 200: None}
    if a.random_init:
        knn_init = knn(map_features(encoder, train_x), train_y, map_features(encoder, test_x), test_y)
        print(json.dumps({"randomInitKnn": knn_init}), flush=True)

    n = len(train_x)
    per_epoch = n // a.batch_size
    order = torch.randperm(n, generator=gen)
    curve, acc = [], {"loss": 0.0, "on": 0.0, "off": 0.0, "zStd": 0.0, "n": 0}
    t0 = time.time()
    for step in range(a.steps):
        pos = step % per_epoch
        if pos == 0 and step > 0:
            order = torch.randperm(n, generator=gen)
        x = train_x[order[pos * a.batch_size : (pos + 1) * a.batch_size]]
        v1, v2 = fashion_augment(x, gen), fashion_augment(x, gen)
        z1, z2 = projector(encoder(v1)), projector(encoder(v2))
        on, off = barlow_parts(z1, z2)
        loss = a.scale_loss * (on + a.lam * off)
        for q in params:
            q.grad = None
        loss.backward()
        step_lr = lr_at(step, lr, a.steps, warmup)
        opt.step(step_lr)
        acc["loss"] += loss.item()
        acc["on"] += on.item()
        acc["off"] += off.item()
        acc["zStd"] += z_std(z1.detach())
        acc["n"] += 1
        if (step + 1) % a.log_every == 0 or step + 1 == a.steps:
            k = acc["n"]
            point = {"step": step + 1, "loss": acc["loss"] / k, "onDiag": acc["on"] / k,
                     "offDiag": acc["off"] / k, "zStd": acc["zStd"] / k, "lr": step_lr,
                     "s": round(time.time() - t0, 1)}
            # LARS's local rate of the first conv kernel and of the last projector kernel
            point["localLrConv1"] = opt.local[0]
            point["localLrLast"] = opt.local[len(params) - 1]
            curve.append(point)
            print(json.dumps(point), flush=True)
            acc = {"loss": 0.0, "on": 0.0, "off": 0.0, "zStd": 0.0, "n": 0}
    seconds = time.time() - t0

    bank, queries = map_features(encoder, train_x), map_features(encoder, test_x)
    knn_map = knn(bank, train_y, queries, test_y)
    # the map is [N, 64 x 4 x 4] in PyTorch's channel-first order: pooled = the mean of each row of 16
    pool = lambda f: f.view(len(f), encoder.dim, -1).mean(2)
    knn_pooled = knn(pool(bank), train_y, pool(queries), test_y)
    raw = knn(train_x.flatten(1), train_y, test_x.flatten(1), test_y) if a.raw else {20: None}
    summary = {
        "peer": "pytorch",
        "torch": torch.__version__,
        **config,
        "finalLoss": curve[-1]["loss"] if curve else float("nan"),
        "knn20": knn_map[20],
        "knn200": knn_map[200],
        "knn20Pooled": knn_pooled[20],
        "knn20RandomInit": knn_init[20],
        "knn200RandomInit": knn_init[200],
        "knn20RawPixels": raw[20],
        "bankGeometry": effective_rank(bank[:10000]),
        "trainSeconds": seconds,
        "curve": curve,
    }
    if a.probe:
        summary["linear"] = linear_probe(bank, train_y, queries, test_y, a.seed)
    out = {k: v for k, v in summary.items() if k != "curve"}
    print(json.dumps(out), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
