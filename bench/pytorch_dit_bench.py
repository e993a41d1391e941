"""Forward+backward timing of a DiT in PyTorch, for comparison with `tinyfusion bench`.

A compact DiT with the same shapes and operations as the Java model (adaLN-Zero blocks, fused qkv
attention, tanh-GELU MLP, learned sigma). Random weights; loss = mean(out**2), as the Java bench.

Fair set-up on this machine (see ../shared/docs/djl-notes.md): Debian's torch picks generic
OpenBLAS kernels and one thread unless told otherwise, so run it as
  OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_dit_bench.py --preset XL/2 --batch 2
"""
import argparse, math, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {"XL/2": (28, 1152, 16, 2, 32, 4, 1000), "S/2": (12, 384, 6, 2, 32, 4, 1000),
           "F28": (28, 64, 4, 4, 28, 1, 10)}  # depth, hidden, heads, patch, input, channels, classes


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.ada = nn.Linear(d, 6 * d)

    def forward(self, x, c):
        n, t, d = x.shape
        s1, g1, a1, s2, g2, a2 = self.ada(F.silu(c)).chunk(6, dim=1)
        y = F.layer_norm(x, (d,), eps=1e-6) * (1 + g1[:, None]) + s1[:, None]
        q, k, v = self.qkv(y).reshape(n, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        att = ((q * (d // self.h) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        x = x + a1[:, None] * self.proj((att @ v).transpose(1, 2).reshape(n, t, d))
        y = F.layer_norm(x, (d,), eps=1e-6) * (1 + g2[:, None]) + s2[:, None]
        return x + a2[:, None] * self.fc2(F.gelu(self.fc1(y), approximate="tanh"))


class DiT(nn.Module):
    def __init__(self, depth, d, h, p, size, ch, classes):
        super().__init__()
        self.p, self.ch, self.g = p, ch, size // p
        self.embed = nn.Conv2d(ch, d, p, stride=p)
        self.pos = nn.Parameter(torch.zeros(1, self.g * self.g, d), requires_grad=False)
        self.t1, self.t2 = nn.Linear(256, d), nn.Linear(d, d)
        self.table = nn.Embedding(classes + 1, d)
        self.blocks = nn.ModuleList(Block(d, h) for _ in range(depth))
        self.final_ada, self.final = nn.Linear(d, 2 * d), nn.Linear(d, p * p * 2 * ch)
        half = 128
        self.register_buffer("freqs", torch.exp(-math.log(10000) * torch.arange(half) / half))

    def forward(self, x, t, y):
        h = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        a = t[:, None].float() * self.freqs[None]
        c = self.t2(F.silu(self.t1(torch.cat([a.cos(), a.sin()], -1)))) + self.table(y)
        for b in self.blocks:
            h = b(h, c)
        s, g = self.final_ada(F.silu(c)).chunk(2, dim=1)
        h = self.final(F.layer_norm(h, (h.shape[-1],), eps=1e-6) * (1 + g[:, None]) + s[:, None])
        n = h.shape[0]
        h = h.reshape(n, self.g, self.g, self.p, self.p, 2 * self.ch).permute(0, 5, 1, 3, 2, 4)
        return h.reshape(n, 2 * self.ch, self.g * self.p, self.g * self.p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="XL/2", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    depth, d, h, p, size, ch, classes = PRESETS[a.preset]
    model = DiT(depth, d, h, p, size, ch, classes)
    for m in model.modules():  # non-zero weights so that every path does real work
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
    x = torch.randn(a.batch, ch, size, size)
    t = torch.randint(0, 1000, (a.batch,))
    y = torch.randint(0, classes, (a.batch,))
    fwd, train = [], []
    for i in range(a.iters + 1):
        with torch.no_grad():
            t0 = time.perf_counter(); model(x, t, y).sum().item(); t1 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        t2 = time.perf_counter(); model(x, t, y).square().mean().backward(); t3 = time.perf_counter()
        if i:  # first round is warm-up
            fwd.append(t1 - t0); train.append(t3 - t2)
    print(f"pytorch {torch.__version__} threads {torch.get_num_threads()} preset {a.preset} batch {a.batch}: "
          f"fwd {statistics.median(fwd)*1e3:.1f} ms ({a.batch/statistics.median(fwd):.3f} img/s), "
          f"fwd+bwd {statistics.median(train)*1e3:.1f} ms ({a.batch/statistics.median(train):.3f} img/s)")


if __name__ == "__main__":
    main()
