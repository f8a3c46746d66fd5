"""PyTorch twin of bench/peers/native_step_peer.ts: the reference training step and a ResNet-18
SimCLR step, timed in a long-lived process so that the Deno script can alternate with it.

- "reference": bench/_native_reference_step.ts written in PyTorch. Encoder conv3x3(3->32)+BN+ReLU,
  conv3x3(32->32)+BN+ReLU plus residual, max-pool 2, conv3x3(32->64)+BN+ReLU,
  conv3x3(64->64)+BN+ReLU plus residual, global average pool, Linear 64->128 + ReLU,
  Linear 128->128; NT-Xent (tau 0.2, self-similarity masked with -1e4) over two views (random
  horizontal flip, reflect-pad 4 then a random 32x32 crop, brightness x0.8-1.2) of one batch of
  64 random 32x32x3 images, both views as one batch of 128; plain SGD, lr 0.05.
- "resnet18": ResNet-18 with the CIFAR stem (3x3 conv, stride 1, no max-pool; basic blocks
  [2, 2, 2, 2], widths 64-128-256-512, 1x1 conv + BN shortcuts), global average pool, SimCLR head
  Linear(512, 512, no bias) + BN + ReLU + Linear(512, 128, no bias) + BN, NT-Xent (tau 0.5) over
  the 2N = 128 views of batch 64 (32x32x3), SGD lr 0.03 momentum 0.9. The two views are made
  before the timed region (on both sides): the time is forward + backward + update.

Protocol: one JSON request per line on stdin, {"net": "reference" | "resnet18", "threads": int,
"iterations": int}; one JSON answer per line, {"ms": [per-step milliseconds], "loss": [floats]}.

    /usr/bin/python3 bench/peers/native_step_twin.py
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def nt_xent_masked(z, tau):
    n2 = z.shape[0]
    n = n2 // 2
    zn = z / z.norm(dim=1, keepdim=True)
    logits = zn @ zn.t() / tau - torch.eye(n2) * 1e4  # [2n, 2n]
    labels = (torch.arange(n2) + n) % n2
    return F.cross_entropy(logits, labels)


class Reference:
    def __init__(self, batch=64, seed=1):
        g = torch.Generator().manual_seed(seed)
        self.g = g
        self.batch = batch
        self.images = torch.rand(batch, 3, 32, 32, generator=g)

        def he(shape, fan_in):
            return (torch.randn(shape, generator=g) * (2 / fan_in) ** 0.5).requires_grad_()

        self.p = {
            "w1": he((32, 3, 3, 3), 27),
            "w2": he((32, 32, 3, 3), 288),
            "w3": he((64, 32, 3, 3), 288),
            "w4": he((64, 64, 3, 3), 576),
            "d1": he((64, 128), 64),
            "d2": he((128, 128), 128),
            "c1": torch.zeros(128, requires_grad=True),
            "c2": torch.zeros(128, requires_grad=True),
        }
        for i, c in ((1, 32), (2, 32), (3, 64), (4, 64)):
            self.p[f"g{i}"] = torch.ones(c, requires_grad=True)
            self.p[f"b{i}"] = torch.zeros(c, requires_grad=True)
        self.opt = torch.optim.SGD(self.p.values(), lr=0.05)

    def views(self):
        b = self.batch
        out = []
        for _ in range(2):
            x = F.pad(self.images, (4, 4, 4, 4), mode="reflect")  # [B, 3, 40, 40]
            flip = torch.rand(b, generator=self.g) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            oy = torch.randint(0, 9, (b,), generator=self.g)
            ox = torch.randint(0, 9, (b,), generator=self.g)
            rows = (oy[:, None] + torch.arange(32)[None, :])  # [B, 32]
            cols = (ox[:, None] + torch.arange(32)[None, :])
            x = x[torch.arange(b)[:, None, None, None], torch.arange(3)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]
            scale = 0.8 + 0.4 * torch.rand(b, generator=self.g)
            out.append(x * scale[:, None, None, None])
        return torch.cat(out, 0)

    def conv_bn_relu(self, x, i):
        p = self.p
        y = F.conv2d(x, p[f"w{i}"], padding=1)
        y = F.batch_norm(y, None, None, p[f"g{i}"], p[f"b{i}"], training=True, eps=1e-5)
        return F.relu(y)

    def step(self):
        views = self.views()
        p = self.p
        a1 = self.conv_bn_relu(views, 1)
        a2 = a1 + self.conv_bn_relu(a1, 2)
        a3 = self.conv_bn_relu(F.max_pool2d(a2, 2), 3)
        a4 = a3 + self.conv_bn_relu(a3, 4)
        f = a4.mean(dim=(2, 3))
        h = F.relu(f @ p["d1"] + p["c1"])
        z = h @ p["d2"] + p["c2"]
        loss = nt_xent_masked(z, 0.2)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.item()


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet18Simclr(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [64, 128, 256, 512]
        layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
        cin = 64
        for stage, w in enumerate(widths):
            for b in range(2):
                layers.append(BasicBlock(cin, w, 2 if stage > 0 and b == 0 else 1))
                cin = w
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(512, 512, bias=False), nn.BatchNorm1d(512), nn.ReLU(),
                                  nn.Linear(512, 128, bias=False), nn.BatchNorm1d(128))

    def forward(self, x):
        return self.head(self.encoder(x).mean(dim=(2, 3)))


class Resnet:
    def __init__(self, batch=64, seed=1):
        torch.manual_seed(seed)
        self.net = ResNet18Simclr()
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.03, momentum=0.9)
        images = torch.rand(batch, 3, 32, 32)
        flip = images.flip(3)
        self.views = torch.cat([images, flip * 0.9], 0)

    def step(self):
        z = self.net(self.views)
        loss = nt_xent_masked(z, 0.5)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.item()


def main():
    nets = {}
    for line in sys.stdin:
        req = json.loads(line)
        torch.set_num_threads(int(req.get("threads", 1)))
        name = req["net"]
        if name not in nets:
            nets[name] = Reference() if name == "reference" else Resnet()
        net = nets[name]
        ms, losses = [], []
        for _ in range(int(req.get("iterations", 1))):
            t0 = time.perf_counter()
            losses.append(net.step())
            ms.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({"ms": ms, "loss": losses}), flush=True)


if __name__ == "__main__":
    main()
