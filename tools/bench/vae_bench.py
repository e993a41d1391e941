#!/usr/bin/python3
"""Encode/decode speed of the Stable Diffusion VAE on Debian's PyTorch, for `tinyfusion bench --vae`.

The network is latent-diffusion's own Encoder/Decoder (ldm/modules/diffusionmodules/model.py, imported
from a checkout or mirror given with --ldm-model, as tools/fixtures/make_vae_fixtures.py does; nothing of
it is copied here) in the kl-f8 configuration of sd-vae-ft-ema / -mse (ch 128, ch_mult 1,2,4,4, two
ResNet blocks per level, z 4, mid-block attention), plus the quant / post-quant 1x1 convolutions, with
PyTorch's default random initialisation (speed does not depend on the values).

Timed as the Java side does it:
  encode: uint8 NHWC -> x/127.5 - 1 -> NCHW -> encoder -> quant_conv -> posterior mean * 0.18215 -> host
  decode: latents / 0.18215 -> post_quant_conv -> decoder -> clamp(127.5 x + 128, 0, 255) -> uint8 NHWC
Prints one JSON object on the last line: encode/decode images_per_sec (median of --iters batches),
their seconds, peak_rss_bytes (ru_maxrss), torch version, threads.

Usage: /usr/bin/python3 tools/bench/vae_bench.py --ldm-model ldm_model.py [--batch 1] [--size 256]
       [--iters 3] [--warmup 1] [--threads N]
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_vae_fixtures as fixture  # noqa: E402  (the ldm import stubs and module loader)

SCALE = 0.18215


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ldm-model", required=True)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    fixture.stub_ldm_imports()
    ldm = fixture.load_module("ldm_model", args.ldm_model)
    dd = dict(double_z=True, z_channels=4, resolution=256, in_channels=3, out_ch=3, ch=128, ch_mult=(1, 2, 4, 4),
              num_res_blocks=2, attn_resolutions=[], dropout=0.0)
    torch.manual_seed(0)
    encoder, decoder = ldm.Encoder(**dd).eval(), ldm.Decoder(**dd).eval()
    quant, post_quant = torch.nn.Conv2d(8, 8, 1).eval(), torch.nn.Conv2d(4, 4, 1).eval()

    n, s = args.batch, args.size
    images = np.random.default_rng(0).integers(0, 256, size=(n, s, s, 3), dtype=np.uint8)
    latents = np.random.default_rng(1).standard_normal((n, 4, s // 8, s // 8)).astype(np.float32)

    def encode():
        x = torch.from_numpy(images).float().div(127.5).sub(1).permute(0, 3, 1, 2)
        moments = quant(encoder(x))
        return (moments[:, :4] * SCALE).numpy()

    def decode():
        z = post_quant(torch.from_numpy(latents) / SCALE)
        x = decoder(z)
        return x.mul(127.5).add(128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()

    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": n, "size": s}
    with torch.inference_mode():
        for name, fn in (("encode", encode), ("decode", decode)):
            secs = []
            for i in range(args.warmup + args.iters):
                t0 = time.perf_counter()
                fn()
                if i >= args.warmup:
                    secs.append(time.perf_counter() - t0)
            result[name + "_seconds"] = secs
            result[name + "_images_per_sec"] = n / statistics.median(secs)
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
