#!/usr/bin/python3
"""Same-inputs parity over a whole run: the PyTorch twin's side (bench/RESULTS.md, "Learning gap",
"Same views, same weights"). With selfsup's side, `simclr_mnist_shared_views.ts`, both trainers
get the same initial weights and the same per-step views, so any difference left is in the
training step (forward, loss, gradient, optimizer, BatchNorm) and in float rounding.

Three modes:

- `--dump-views FILE --seed S [--steps 600] [--batch-size 64]`: the twin's own views (its data
  order and `mnist_augment`, the same generator stream as `simclr_mnist_twin.py --seed S`) written
  as raw float32 `[steps, 2, batch, 28, 28]`, the layout `--replay` reads on selfsup's side.
- `--init JSON --views FILE [--log JSON]`: trains the twin's network (ConvNet 16-32-64, plain head
  64-64-128) from selfsup's initial weights (written by the .ts `--init-out`) on the views in
  FILE with selfsup's default recipe (NT-Xent tau 0.2, one BatchNorm batch of 2N, SGD lr 0.06
  momentum 0.8, weight decay 5e-4 on kernels only, 5% linear warm-up then cosine to 0), and writes
  the same report as the .ts side: per-step loss, lr and gradient norm, each variable's gradient
  norm at steps 0 and 1, final weights and moving statistics (in tfjs layouts and names), kNN
  (bank = first 2,000 training images, queries = first 1,000 test images, k 200, exp(cos / 0.1),
  moving statistics).
- `--compare A.json B.json`: loss curves side by side, gradient norms at steps 0/1, moving
  statistics and weights at the end, and both final encoders scored by this one kNN evaluator.
- `--summary DIR...`: the 2x2 of trainers and views (bench/RESULTS.md, "The twin's own views"),
  one row per DIR holding `ss.json` (selfsup on selfsup's views), `st.json` (selfsup on the twin's
  views), `tt.json` (twin on the twin's views), `ts.json` (twin on selfsup's views), all from the
  DIR's one `init.json`: each cell's kNN and last-100-step loss, then the views' effect (twin's
  views minus selfsup's, per trainer and pooled) and the trainers' effect, paired by seed,
  mean +- standard error.

Run from the repository root (see the .ts file's header for the whole sequence):

    nice -n 10 /usr/bin/python3 bench/peers/simclr_mnist_shared_views.py --seed 0 --dump-views v.f32
    nice -n 10 /usr/bin/python3 bench/peers/simclr_mnist_shared_views.py --init init.json \\
        --views v.f32 --log twin.json
    /usr/bin/python3 bench/peers/simclr_mnist_shared_views.py --compare selfsup.json twin.json
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simclr_mnist_twin as twin  # noqa: E402


def dump_views(path, seed, steps, batch):
    """The plain twin's stream: generator seeded with `seed`, one permutation per epoch, two
    mnist_augment calls per batch."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    train_x, _ = twin.load_mnist("train")
    n = len(train_x)
    per_epoch = n // batch
    order = torch.randperm(n, generator=gen)
    with open(path, "wb") as f:
        for step in range(steps):
            pos = step % per_epoch
            if pos == 0 and step > 0:
                order = torch.randperm(n, generator=gen)
            x = train_x[order[pos * batch : (pos + 1) * batch]]
            v1, v2 = twin.mnist_augment(x, gen), twin.mnist_augment(x, gen)
            f.write(torch.stack([v1, v2]).contiguous().numpy().astype("<f4").tobytes())
    print(json.dumps({"wrote": path, "steps": steps, "batch": batch, "seed": seed}))


def build(init):
    """The twin's nets with selfsup's initial weights; returns nets, trainable params, BN buffers."""
    encoder, head = twin.ConvNet(), twin.make_head(64, bn=False)
    params = list(encoder.parameters()) + list(head.parameters())
    bns = [m for net in (encoder, head) for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    buffers = [b for m in bns for b in (m.running_mean, m.running_var)]
    train_w = [w for w in init if w["trainable"]]
    fixed_w = [w for w in init if not w["trainable"]]
    assert len(train_w) == len(params) and len(fixed_w) == len(buffers), "layouts differ"
    with torch.no_grad():
        for q, w in zip(params, train_w):
            q.copy_(twin.tf_layout(q, w["values"]))
        for q, w in zip(buffers, fixed_w):
            q.copy_(twin.tf_layout(q, w["values"]))
    return encoder, head, params, buffers


def to_tf(param, t):
    """A PyTorch tensor in tfjs's layout (HWIO conv kernels, [in, out] dense kernels), flat."""
    t = t.detach()
    if t.dim() == 4:
        t = t.permute(2, 3, 1, 0)
    elif t.dim() == 2:
        t = t.t()
    return t.contiguous().view(-1).tolist()


def knn_of(encoder):
    train_x, train_y = twin.load_mnist("train")
    test_x, test_y = twin.load_mnist("test")
    bank = twin.features(encoder, train_x[:2000], "eval")
    queries = twin.features(encoder, test_x[:1000], "eval")
    return twin.knn_top1(bank, train_y[:2000], queries, test_y[:1000])


def train_shared(a):
    init = json.load(open(a.init))
    encoder, head, params, buffers = build(init)
    names = [w["name"] for w in init if w["trainable"]]
    fixed_names = [w["name"] for w in init if not w["trainable"]]
    views = np.memmap(a.views, dtype="<f4", mode="r")
    per_step = 2 * a.batch_size * 28 * 28
    steps = a.steps or len(views) // per_step
    assert len(views) >= steps * per_step, f"{a.views} holds fewer than {steps} steps"
    warmup = a.warmup if a.warmup is not None else round(0.05 * steps)
    groups = [
        {"params": [q for q in params if q.dim() > 1], "weight_decay": a.weight_decay},
        {"params": [q for q in params if q.dim() <= 1], "weight_decay": 0.0},
    ]
    opt = torch.optim.SGD(groups, lr=a.lr, momentum=a.momentum)
    knn_start = knn_of(encoder)
    losses, lrs, grad_norms, step_grad_norms = [], [], [], []
    t0 = time.time()
    for step in range(steps):
        v = torch.from_numpy(np.array(views[step * per_step : (step + 1) * per_step]))
        v = v.view(2 * a.batch_size, 1, 28, 28)
        z = head(encoder(v))
        loss = twin.nt_xent(z[: a.batch_size], z[a.batch_size :], a.temperature)
        opt.zero_grad()
        loss.backward()
        norms = [q.grad.norm().item() for q in params]
        if step < 2:
            step_grad_norms.append({"loss": loss.item(), **dict(zip(names, norms))})
        lr = twin.lr_at(step, a.lr, steps, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        losses.append(loss.item())
        lrs.append(lr)
        grad_norms.append(math.sqrt(sum(n * n for n in norms)))
    seconds = time.time() - t0
    knn = knn_of(encoder)
    final = [
        {"name": n, "trainable": True, "shape": list(q.shape), "values": to_tf(q, q)}
        for n, q in zip(names, params)
    ] + [
        {"name": n, "trainable": False, "shape": list(q.shape), "values": to_tf(q, q)}
        for n, q in zip(fixed_names, buffers)
    ]
    report = {
        "side": "twin",
        "torch": torch.__version__,
        "steps": steps,
        "views": a.views,
        "init": a.init,
        "knnTop1Start": knn_start,
        "knnTop1": knn,
        "losses": losses,
        "lrs": lrs,
        "gradNorms": grad_norms,
        "stepGradNorms": step_grad_norms,
        "final": final,  # trainable in the init file's order, then the moving statistics
        "trainSeconds": seconds,
    }
    print(json.dumps({
        "views": a.views, "knnTop1Start": knn_start, "knnTop1": knn, "firstLoss": losses[0],
        "last100": sum(losses[-100:]) / len(losses[-100:]), "trainSeconds": seconds,
    }), flush=True)
    if a.log:
        json.dump(report, open(a.log, "w"))


def encoder_from(final):
    """A twin encoder holding a report's final weights (either side's)."""
    encoder = twin.ConvNet()
    params = list(encoder.parameters())
    bns = [m for m in encoder.modules() if isinstance(m, nn.BatchNorm2d)]
    buffers = [b for m in bns for b in (m.running_mean, m.running_var)]
    train_w = [w for w in final if w["trainable"]][: len(params)]
    fixed_w = [w for w in final if not w["trainable"]][: len(buffers)]
    with torch.no_grad():
        for q, w in zip(params, train_w):
            q.copy_(twin.tf_layout(q, w["values"]))
        for q, w in zip(buffers, fixed_w):
            q.copy_(twin.tf_layout(q, w["values"]))
    return encoder


def compare(pa, pb):
    a, b = json.load(open(pa)), json.load(open(pb))
    la, lb = np.array(a["losses"]), np.array(b["losses"])
    n = min(len(la), len(lb))
    la, lb = la[:n], lb[:n]
    d = lb - la
    out = {"a": pa, "b": pb, "steps": n}
    out["lrMaxAbsDiff"] = float(np.max(np.abs(np.array(a["lrs"][:n]) - np.array(b["lrs"][:n]))))
    out["lossAtStep"] = {
        str(s): [float(la[s]), float(lb[s])] for s in (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 400, n - 1)
        if s < n
    }
    # first step where the two losses differ by more than 1e-3 relative
    rel = np.abs(d) / np.abs(la)
    over = np.nonzero(rel > 1e-3)[0]
    out["firstStepRelDiffOver1e-3"] = int(over[0]) if len(over) else None
    over = np.nonzero(rel > 1e-2)[0]
    out["firstStepRelDiffOver1e-2"] = int(over[0]) if len(over) else None
    windows = {}
    for lo in range(0, n, 100):
        hi = min(n, lo + 100)
        dd = d[lo:hi]
        windows[f"{lo}-{hi}"] = {
            "a": float(la[lo:hi].mean()),
            "b": float(lb[lo:hi].mean()),
            "b-a": float(dd.mean()),
            "se": float(dd.std(ddof=1) / math.sqrt(len(dd))) if len(dd) > 1 else None,
            "b>a": int((dd > 0).sum()),
        }
    out["lossWindows"] = windows
    ga, gb = np.array(a["gradNorms"][:n]), np.array(b["gradNorms"][:n])
    out["gradNormWindows"] = {
        f"{lo}-{min(n, lo + 100)}": [float(ga[lo : lo + 100].mean()), float(gb[lo : lo + 100].mean())]
        for lo in range(0, n, 100)
    }
    for s in range(min(len(a["stepGradNorms"]), len(b["stepGradNorms"]))):
        sa, sb = a["stepGradNorms"][s], b["stepGradNorms"][s]
        per = {k: (sb[k] - sa[k]) / sa[k] for k in sa if k in sb and k != "loss" and sa[k] > 0}
        worst = max(per, key=lambda k: abs(per[k]))
        out[f"step{s}"] = {
            "loss": [sa["loss"], sb["loss"]],
            "gradNormMaxRelDiff": [worst, per[worst]],
            "gradNorms": {k: [sa[k], sb[k]] for k in sa if k != "loss"},
        }
    fa, fb = a["final"], b["final"]

    def rel_l2(x, y):
        x, y = np.array(x["values"]), np.array(y["values"])
        return float(np.linalg.norm(y - x) / max(np.linalg.norm(x), 1e-12))

    ta = [w for w in fa if w["trainable"]]
    tb = [w for w in fb if w["trainable"]]
    out["finalWeightRelL2"] = {x["name"]: rel_l2(x, y) for x, y in zip(ta, tb)}
    ma = [w for w in fa if not w["trainable"]]
    mb = [w for w in fb if not w["trainable"]]
    out["finalMovingStatsRelL2"] = {x["name"]: rel_l2(x, y) for x, y in zip(ma, mb)}
    # moving variance scale: torch keeps the unbiased (n/(n-1)) batch variance, tfjs the biased
    out["movingVarRatio"] = {
        x["name"]: float(np.mean(np.array(y["values"])) / np.mean(np.array(x["values"])))
        for x, y in zip(ma, mb)
        if "variance" in x["name"]
    }
    out["knnOwn"] = [a["knnTop1"], b["knnTop1"]]
    out["knnTwinEvaluator"] = [knn_of(encoder_from(fa)), knn_of(encoder_from(fb))]
    print(json.dumps(out, indent=1))


CELLS = {"ss": "selfsup on selfsup views", "st": "selfsup on twin views",
         "tt": "twin on twin views", "ts": "twin on selfsup views"}


def summary(dirs):
    def mean_se(v):
        v = np.array(v, dtype=float)
        if len(v) == 0:
            return None
        se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else None
        return {"mean": float(v.mean()), "se": se, "n": len(v),
                "sd": float(v.std(ddof=1)) if len(v) > 1 else None}

    rows = []
    for d in dirs:
        row = {"dir": d}
        for cell in CELLS:
            path = os.path.join(d, cell + ".json")
            if os.path.exists(path):
                r = json.load(open(path))
                row[cell] = 100 * r["knnTop1"]
                row[cell + "Loss"] = sum(r["losses"][-100:]) / len(r["losses"][-100:])
        rows.append(row)

    def paired(f, keys):
        return [f(r) for r in rows if all(k in r for k in keys)]

    # a markdown table: kNN per cell (last-100-step mean loss in brackets), then mean +- sd
    cell = lambda r, c: f"{r[c]:.1f}% ({r[c + 'Loss']:.4f})" if c in r else "-"
    print("| DIR | " + " | ".join(CELLS.values()) + " |")
    print("| --- |" + " ---: |" * len(CELLS))
    for r in rows:
        print(f"| {r['dir']} | " + " | ".join(cell(r, c) for c in CELLS) + " |")
    ms = lambda v: f"{np.mean(v):.2f} +- {np.std(v, ddof=1):.2f}" if len(v) > 1 else "-"
    print("| mean +- sd | " + " | ".join(ms(paired(lambda r, c=c: r[c], [c])) for c in CELLS) + " |")
    out = {c: mean_se(paired(lambda r, c=c: r[c], [c])) for c in CELLS}
    out["views, selfsup trainer (st - ss)"] = mean_se(paired(lambda r: r["st"] - r["ss"], ["st", "ss"]))
    out["views, twin trainer (tt - ts)"] = mean_se(paired(lambda r: r["tt"] - r["ts"], ["tt", "ts"]))
    out["views, both trainers ((st - ss + tt - ts) / 2)"] = mean_se(paired(
        lambda r: (r["st"] - r["ss"] + r["tt"] - r["ts"]) / 2, CELLS))
    out["trainer, selfsup views (ss - ts)"] = mean_se(paired(lambda r: r["ss"] - r["ts"], ["ss", "ts"]))
    out["trainer, twin views (st - tt)"] = mean_se(paired(lambda r: r["st"] - r["tt"], ["st", "tt"]))
    out["own pipelines (ss - tt)"] = mean_se(paired(lambda r: r["ss"] - r["tt"], ["ss", "tt"]))
    out["loss, views (st - ss + tt - ts) / 2"] = mean_se(paired(
        lambda r: (r["stLoss"] - r["ssLoss"] + r["ttLoss"] - r["tsLoss"]) / 2, CELLS))
    for k, v in out.items():
        if v and k not in CELLS:
            print(f"{k}: {v['mean']:+.2f} +- {v['se'] or float('nan'):.2f} (se, {v['n']} seeds)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="default 600 for --dump-views, else all")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.06)
    p.add_argument("--momentum", type=float, default=0.8)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--warmup", type=int, default=None, help="default: 5%% of the steps")
    p.add_argument("--temperature", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dump-views")
    p.add_argument("--init")
    p.add_argument("--views")
    p.add_argument("--log")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--summary", nargs="+", metavar="DIR")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.dump_views:
        return dump_views(a.dump_views, a.seed, a.steps or 600, a.batch_size)
    if a.compare:
        return compare(*a.compare)
    if a.summary:
        return summary(a.summary)
    if not (a.init and a.views):
        p.error("give --dump-views, --compare, or --init and --views")
    train_shared(a)


if __name__ == "__main__":
    main()
