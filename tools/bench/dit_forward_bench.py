"""The PyTorch side of `tinyfusion bench --compare-pytorch`: the original DiT (facebookresearch/DiT models.py).

Started by the Java bench, which alternates its own timings with this process's, so both sides see the same
machine load. Protocol (one line each way):
  -> this script prints {"ready": ..., "params": N} once the model is built
  <- "fwd N"    one forward pass of N rows            -> {"sec": s}
  <- "cfg N"    one forward_with_cfg call on 2N rows   -> {"sec": s}
  <- "probe N"  forward of the shared probe input      -> {"head": [...], "abs_mean": m}
  <- "quit"

models.py imports PatchEmbed, Attention and Mlp from timm (not packaged by Debian); the stand-ins of
tools/fixtures/sit_transport.py (same parameter names and math) are installed in their place.

Weights: every parameter except the fixed sin-cos pos_embed is redrawn as N(0, 0.02) from torch.manual_seed(seed),
in state-dict order, as the Java side does with the same seed: the two sides run the same random model (the probe
checks it). Inputs: x ~ randn from seed + 1, t_i = (137 i) mod 1000, y_i = i mod num_classes.

Fair set-up for Debian's torch (see ../shared/docs/djl-notes.md): OPENBLAS_CORETYPE=SkylakeX and
OPENBLAS_NUM_THREADS=1 in the environment and --threads N (torch.set_num_threads), as the Java side sets.
"""
import argparse
import importlib.util
import json
import pathlib
import sys
import time

import torch


def load_models_py(path):
    # timm's PatchEmbed / Attention / Mlp stand-ins are shared with the SiT fixture generator.
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "fixtures"))
    from sit_transport import install_timm_stand_in

    install_timm_stand_in()
    spec = importlib.util.spec_from_file_location("dit_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs(cfg, n, seed):
    torch.manual_seed(seed + 1)
    x = torch.randn(n, cfg["in_channels"], cfg["input_size"], cfg["input_size"])
    t = torch.tensor([(137 * i) % 1000 for i in range(n)], dtype=torch.int64)
    y = torch.tensor([i % cfg["num_classes"] for i in range(n)], dtype=torch.int64)
    return x, t, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-py", required=True, help="facebookresearch/DiT's models.py")
    ap.add_argument("--config", required=True, help="JSON: input_size, patch_size, in_channels, hidden_size, "
                    "depth, num_heads, mlp_ratio, class_dropout_prob, num_classes, learn_sigma")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    cfg = json.loads(a.config)
    models = load_models_py(a.models_py)
    model = models.DiT(**cfg).eval()
    torch.manual_seed(a.seed)
    for name, p in model.state_dict(keep_vars=True).items():
        if name != "pos_embed":
            p.data.copy_(torch.normal(0.0, 0.02, tuple(p.shape)))
    print(json.dumps({"ready": True, "params": sum(p.numel() for p in model.parameters()),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        cmd, n = parts[0], int(parts[1])
        if cmd == "probe":
            x, t, y = inputs(cfg, n, a.seed)
            out = model(x, t, y)
            print(json.dumps({"head": out.flatten()[:8].tolist(), "abs_mean": out.abs().mean().item()}), flush=True)
            continue
        rows = 2 * n if cmd == "cfg" else n
        x, t, y = inputs(cfg, rows, a.seed)
        t0 = time.perf_counter()
        if cmd == "cfg":
            out = model.forward_with_cfg(x, t, y, 4.0)
        else:
            out = model(x, t, y)
        float(out.sum())
        print(json.dumps({"sec": time.perf_counter() - t0}), flush=True)


if __name__ == "__main__":
    main()
