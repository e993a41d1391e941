#!/usr/bin/python3
"""Feature-extraction speed of pytorch-fid's Inception-v3 on Debian's PyTorch, for `tinyfusion bench --inception`.

Times what the Java FidInceptionV3.extract does per batch: uint8 NHWC images -> float /255 -> NCHW ->
bilinear resize to 299 (align_corners=False) -> 2x-1 -> the network -> pool (N, 2048), the sFID
tensor (Mixed_6d.branch1x1 after BN+ReLU, channels 0..6, NHWC-flattened) and bias-free logits.

The network is pytorch-fid's own InceptionV3 (its inception.py imported from a checkout or bare git
mirror of mseitzer/pytorch-fid given with --pytorch-fid, as tools/fixtures/make_inception_fixture.py
does; nothing of it is copied here). Without --pytorch-fid it falls back to torchvision's Inception3
with the same layers and weights, whose four FID-specific pooling variants differ (noted in the output).
Weights: --weights FILE (a pytorch-fid .pth state dict), else the random recipe weights of the parity
fixture (bit-identical to Java's RandomInceptionWeights).

Images are deterministic: byte (n*13 + y*31 + x*17 + c*7) % 256 for image n, row y, column x, channel c,
so Java can compare features on the first images (--probe N pool rows are printed).

Prints one JSON object on the last line of stdout: images_per_sec (median over --iters timed batches),
seconds, peak_rss_bytes (ru_maxrss), torch/torchvision versions, threads, network, probe_pool.

Usage: /usr/bin/python3 tools/bench/inception_bench.py [--batch 50] [--size 256] [--iters 3] [--warmup 1]
       [--threads N] [--pytorch-fid MIRROR] [--weights FILE] [--probe 2]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_inception_fixture as fixture  # noqa: E402  (the recipe weights and pytorch-fid import)


def deterministic_images(n, size, first=0):
    idx = np.arange(first, first + n, dtype=np.int64)[:, None, None, None]
    y = np.arange(size, dtype=np.int64)[None, :, None, None]
    x = np.arange(size, dtype=np.int64)[None, None, :, None]
    c = np.arange(3, dtype=np.int64)[None, None, None, :]
    return ((idx * 13 + y * 31 + x * 17 + c * 7) % 256).astype(np.uint8)


def build(args):
    """(forward(uint8 NHWC tensor) -> (pool, spatial, logits), description)."""
    weights = fixture.recipe_state_dict() if args.weights is None else torch.load(args.weights, map_location="cpu")
    if args.pytorch_fid:
        inception, _ = fixture.import_pytorch_fid(args.pytorch_fid)
        model, net, _ = fixture.build_reference_model(inception, weights)

        def forward(images):
            x = images.permute(0, 3, 1, 2).float().div(255)
            return fixture.run(model, net, x)

        return forward, "pytorch-fid InceptionV3 (FID blocks)"

    net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    net.load_state_dict({k: v for k, v in weights.items()}, strict=False)
    net.eval()
    layers = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
              "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
              "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"]

    def forward(images):
        captured = []
        hook = net.Mixed_6d.branch1x1.register_forward_hook(lambda m, i, o: captured.append(o))
        with torch.no_grad():
            x = images.permute(0, 3, 1, 2).float().div(255)
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
            x = 2 * x - 1
            for name in layers:
                x = getattr(net, name)(x)
            pool = x.flatten(1)
            logits = pool @ net.fc.weight.T
        hook.remove()
        spatial = captured[0][:, :7].permute(0, 2, 3, 1).reshape(images.shape[0], -1)
        return pool.numpy(), spatial.numpy(), logits.numpy()

    return forward, "torchvision Inception3 with the same weights (no --pytorch-fid: FID pooling variants not applied)"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--pytorch-fid", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--probe", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    forward, network = build(args)
    probe = forward(torch.from_numpy(deterministic_images(args.probe, args.size)))[0] if args.probe > 0 else None
    batch = torch.from_numpy(deterministic_images(args.batch, args.size))
    times = []
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        forward(batch)
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            times.append(dt)
    med = statistics.median(times)
    out = {
        "images_per_sec": args.batch / med,
        "seconds": times,
        "batch": args.batch,
        "size": args.size,
        "threads": torch.get_num_threads(),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "network": network,
        "probe_pool": None if probe is None else [float(v) for v in probe.reshape(-1)],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
