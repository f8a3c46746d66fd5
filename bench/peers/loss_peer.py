"""PyTorch twin of bench/loss_peer_bench.ts: NT-Xent, InfoNCE and MoCo's InfoNCE forward + backward.

A long-lived process so that the Deno bench can alternate with it in the same minutes: it reads one
JSON request per line on stdin, {"loss": "ntXent" | "infoNce" | "mocoInfoNce", "n": int, "d": int,
"K": int, "threads": int, "iterations": int}, and answers one JSON line {"ms": [per-iteration
milliseconds], "cpu_ms": [per-iteration process CPU milliseconds], "loss": float}. Each iteration is a full forward + backward with the gradients
materialized, written the way SimCLR / MoCo code usually writes them in PyTorch (F.normalize, one
similarity matmul, F.cross_entropy), with the same temperatures as selfsup's defaults.

    python3 bench/peers/loss_peer.py   # then feed it request lines
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def nt_xent(z1, z2, tau=0.5):
    n = z1.shape[0]
    z = torch.cat([F.normalize(z1, dim=1), F.normalize(z2, dim=1)], 0)  # [2n, d]
    sim = z @ z.t() / tau  # [2n, 2n]
    eye = torch.eye(2 * n, dtype=torch.bool)
    sim = sim.masked_fill(eye, float("-inf"))
    labels = (torch.arange(2 * n) + n) % (2 * n)
    return F.cross_entropy(sim, labels)


def info_nce(z1, z2, tau=0.1):
    a = F.normalize(z1, dim=1)
    b = F.normalize(z2, dim=1)
    logits = a @ b.t() / tau  # [n, n]
    labels = torch.arange(a.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2


def moco_info_nce(q, k, queue, tau=0.2):
    q = F.normalize(q, dim=1)
    k = F.normalize(k, dim=1).detach()
    queue = F.normalize(queue, dim=1).detach()
    l_pos = (q * k).sum(1, keepdim=True)  # [n, 1]
    l_neg = q @ queue.t()  # [n, K]
    logits = torch.cat([l_pos, l_neg], 1) / tau
    labels = torch.zeros(q.shape[0], dtype=torch.long)
    return F.cross_entropy(logits, labels)


def run(request):
    torch.set_num_threads(int(request["threads"]))
    torch.manual_seed(0)
    n, d = int(request["n"]), int(request["d"])
    loss_name = request["loss"]
    x1 = torch.randn(n, d, requires_grad=True)
    x2 = torch.randn(n, d, requires_grad=loss_name != "mocoInfoNce")
    queue = torch.randn(int(request.get("K", 4096)), d)
    if loss_name == "ntXent":
        f = lambda: nt_xent(x1, x2)
    elif loss_name == "infoNce":
        f = lambda: info_nce(x1, x2)
    elif loss_name == "mocoInfoNce":
        f = lambda: moco_info_nce(x1, x2, queue)
    else:
        raise ValueError(f"unknown loss {loss_name}")
    ms = []
    cpu_ms = []
    value = 0.0
    for _ in range(int(request["iterations"])):
        x1.grad = None
        x2.grad = None
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = f()
        loss.backward()
        value = loss.item()
        cpu_ms.append((time.process_time() - c0) * 1e3)
        ms.append((time.perf_counter() - t0) * 1e3)
    return {"ms": ms, "cpu_ms": cpu_ms, "loss": value}


def main():
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
