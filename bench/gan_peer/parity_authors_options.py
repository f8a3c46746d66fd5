"""The twin's half of the parity check of bench/gan_peer/parity_authors_options.ts: loads selfsup's
initial weights into the twin's nets (dcgan_mnist_twin.py, `align="tf"`: strided convs padded as
TensorFlow's "same"), trains them on selfsup's batches and z with the same options (FC layers,
L2 on every gradient, linear decay of the rate; Adam epsilon set to tfjs's), and compares the
weights after iteration 1 and after the last: for each parameter, the largest difference between
the two frameworks' changes `|dp_twin - dp_selfsup|` over the largest change `|dp_selfsup|`.
Controls, the same twin run without weight decay and without the decay of the rate, show how far
apart runs that differ in one option land.

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/gan_peer/parity_authors_options.py runs/h14-parity
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dcgan_mnist_twin as twin  # noqa: E402


def read(dirname, name, shape):
    return np.fromfile(os.path.join(dirname, f"{name}.f32"), dtype=np.float32).reshape(shape)


def layers_of(dirname, manifest, key):
    return [[read(dirname, w["name"], w["shape"]) for w in layer["weights"]] for layer in manifest[key]]


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def set_bn(bn, ws):
    gamma, beta, mean, var = ws
    bn.weight.data, bn.bias.data = t(gamma), t(beta)
    bn.running_mean.data, bn.running_var.data = t(mean), t(var)


def set_linear(lin, ws):
    lin.weight.data = t(ws[0].T)
    if len(ws) > 1:
        lin.bias.data = t(ws[1])


def load(g, d, dirname, manifest, hidden):
    """selfsup's layers (in getWeights order) into the twin's modules."""
    gl = layers_of(dirname, manifest, "generator")
    if hidden:
        set_linear(g.hidden[0], gl.pop(0))
        set_bn(g.hidden[1], gl.pop(0))
    # the projection: selfsup reshapes its output to [7, 7, C], the twin views it as [C, 7, 7]
    k = gl.pop(0)[0]
    c = g.c0
    g.project.weight.data = t(k.reshape(-1, 7, 7, c).transpose(0, 3, 1, 2).reshape(k.shape[0], -1).T)
    set_bn(g.bn0, gl.pop(0))
    convs = [m for m in g.up if isinstance(m, torch.nn.ConvTranspose2d)]
    bns = [m for m in g.up if isinstance(m, torch.nn.BatchNorm2d)]
    for i, conv in enumerate(convs):
        ws = gl.pop(0)
        conv.weight.data = t(ws[0].transpose(3, 2, 0, 1))  # [kh, kw, out, in] -> [in, out, kh, kw]
        if len(ws) > 1:
            conv.bias.data = t(ws[1])
        if i < len(bns):
            set_bn(bns[i], gl.pop(0))
    assert not gl, "generator layers left over"
    el = layers_of(dirname, manifest, "encoder")
    for m in d.trunk:
        if isinstance(m, torch.nn.Conv2d):
            ws = el.pop(0)
            m.weight.data = t(ws[0].transpose(3, 2, 0, 1))  # [kh, kw, in, out] -> [out, in, kh, kw]
            if len(ws) > 1:
                m.bias.data = t(ws[1])
        elif isinstance(m, torch.nn.BatchNorm2d):
            set_bn(m, el.pop(0))
    assert not el, "encoder layers left over"
    cl = layers_of(dirname, manifest, "critic")
    # D's features: selfsup flattens [7, 7, C], the twin [C, 7, 7]
    cd = [m for m in d.trunk if isinstance(m, torch.nn.Conv2d)][-1].out_channels
    first = cl.pop(0)
    k = first[0]
    k = k.reshape(7, 7, cd, -1).transpose(2, 0, 1, 3).reshape(k.shape[0], -1)
    if hidden:
        set_linear(d.hidden[0], [k])
        set_bn(d.hidden[1], cl.pop(0))
    else:
        set_linear(d.critic, [k, first[1]])
    if hidden:
        set_linear(d.critic, cl.pop(0))
    assert not cl, "critic layers left over"


def build(run, dirname, manifest):
    g = twin.Generator(100, [128, 64], "channel", run["hidden"], "tf")
    d = twin.Discriminator([64, 128], run["hidden"], "tf")
    load(g, d, dirname, manifest, run["hidden"])
    return g, d


def train(root, run, manifest, weight_decay, decay_from, upto):
    g, d = build(run, f"{root}/init", manifest)
    eps = run["epsilon"]
    opt_g = twin.make_adam(g, run["lr"], weight_decay, eps)
    opt_d = twin.make_adam(d, run["lr"], weight_decay, eps)
    K, B = run["iterations"], run["batch"]
    x = np.fromfile(f"{root}/x.f32", dtype=np.float32).reshape(K, B, 1, 28, 28)
    z = np.fromfile(f"{root}/z.f32", dtype=np.float32).reshape(K, 2, B, 100)
    lines, snaps = [], {}
    for it in range(upto):
        lr = twin.lr_at(it, run["lr"], K, decay_from)
        lines.append((lr,) + twin.train_iteration(g, d, opt_d, opt_g, t(x[it]), t(z[it, 0]), t(z[it, 1]), lr))
        if it + 1 in (1, upto):
            snaps[it + 1] = {k: v.detach().clone() for k, v in list(g.named_parameters()) + [("d." + n, p) for n, p in d.named_parameters()]}
    return lines, snaps


def params_of(root, sub, run, manifest):
    g, d = build(run, f"{root}/{sub}", manifest)
    return {k: v.detach().clone() for k, v in list(g.named_parameters()) + [("d." + n, p) for n, p in d.named_parameters()]}


def compare(ours, theirs, init):
    """Per parameter, the two frameworks' changes ds (selfsup) and dt (twin): the relative
    distance ||dt - ds|| / ||ds|| and the share of elements that disagree, |dt - ds| > 10% of
    max |ds| (Adam's first steps are +-lr wherever |g| >> eps, so a gradient of the order of
    float noise can flip one element's step without any error in the port)."""
    rows = {}
    for k in init:
        ds, dt = ours[k] - init[k], theirs[k] - init[k]
        rel = ((dt - ds).norm() / ds.norm().clamp_min(1e-30)).item()
        off = ((dt - ds).abs() > 0.1 * ds.abs().max()).float().mean().item()
        rows[k] = (rel, off, ds.numel())
    return rows


def summary(rows):
    worst = max(rows, key=lambda k: rows[k][0])
    n = sum(r[2] for r in rows.values())
    off = sum(r[1] * r[2] for r in rows.values()) / n
    med = float(np.median([r[0] for r in rows.values()]))
    return f"relative distance median {med:.2e}, worst {rows[worst][0]:.2e} ({worst}); elements off {100 * off:.3f}%"


def main():
    root = sys.argv[1]
    torch.set_num_threads(1)
    run = json.load(open(f"{root}/run.json"))
    manifest = json.load(open(f"{root}/init/manifest.json"))
    K = run["iterations"]
    init = params_of(root, "init", run, manifest)
    ours = {n: params_of(root, f"after{n}", run, manifest) for n in (1, K)}
    print(f"selfsup run: {json.dumps(run)}")
    same, snaps = train(root, run, manifest, run["weightDecay"], run["decayFrom"], K)
    for it, (lr, ld, lg, dx, dgz) in enumerate(same):
        print(f"twin it {it} lr {lr:.3e} D loss {ld:.3f} D(x) {dx:.3f} D(G(z)) {dgz:.3f} | G loss {lg:.3f}")
    for n in (1, K):
        rows = compare(ours[n], snaps[n], init)
        if n == 1:
            for k, (rel, off, size) in rows.items():
                print(f"  after 1: {k} ({size}): relative distance {rel:.2e}, elements off {100 * off:.3f}%")
        print(f"same options, after {n}: {summary(rows)}")
    for label, wd, df in (("no weight decay", 0.0, run["decayFrom"]), ("constant rate", run["weightDecay"], None)):
        _, snaps_c = train(root, run, manifest, wd, df, K)
        print(f"control, twin with {label}, after {K}: {summary(compare(ours[K], snaps_c[K], init))}")


if __name__ == "__main__":
    main()
