#!/usr/bin/env python
"""Benchmark the CodeFormer forward pass at the official (512 px) config.

Prints the forward time per image for each batch size and fidelity weight w (inference setting:
eval mode, no autograd, adain=True), the FLOPs of one forward (torch.utils.flop_counter), and the
parameter counts. With `--upstream PATH` the same weights are also run through the upstream
architecture code and the time ratio upstream/ours is printed (> 1 means ours is faster).

PATH is a directory holding a `basicsr` package in which `basicsr/archs/codeformer_arch.py` and
`vqgan_arch.py` are the files of github.com/sczhou/CodeFormer and `basicsr/utils` provides
`get_root_logger` and `registry.ARCH_REGISTRY` (two-line stubs are enough). That code is under a
non-commercial licence and is not part of this repository.

    python scripts/bench_codeformer.py --threads 2 --batches 1 --upstream /tmp/upstream_cf
"""
from __future__ import annotations
import argparse, statistics, sys, time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from idcodeformer.models.codeformer import CodeFormer
from idcodeformer.models.vqgan import count_parameters
from bench_record import write_record


def _load_upstream(path: str, state_dict: dict) -> torch.nn.Module:
    "Upstream's CodeFormer with our weights (strict)."
    sys.path.insert(0, path)
    try: from basicsr.archs.codeformer_arch import CodeFormer as Upstream
    except ImportError as e: raise SystemExit(f'--upstream {path}: cannot import basicsr.archs.codeformer_arch ({e})') from None
    net = Upstream()
    net.load_state_dict(state_dict, strict=True)
    return net


def _sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def _time_forward(net, x, w, bf16) -> float:
    "Seconds for one call of `net(x, w=w, adain=True)` (the inference setting)."
    with torch.inference_mode(), torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        _sync(x.device); t0 = time.perf_counter()
        net(x, w=w, adain=True)
        _sync(x.device)
    return time.perf_counter() - t0


def _flops(net, x, w) -> tuple[int, dict[str, int]]:
    "Total FLOPs of one forward and the split by top-level submodule."
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        net(x, w=w, adain=True)
    counts = {name: sum(c.values()) for name, c in fc.get_flop_counts().items() if name != 'Global'}
    per = {}
    for name, n in counts.items():   # outermost recorded modules only (a parent's count includes its children)
        parts = name.split('.')
        if len(parts) > 1 and not any('.'.join(parts[:i]) in counts for i in range(2, len(parts))):
            per[parts[1]] = per.get(parts[1], 0) + n
    return fc.get_total_flops(), per


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    ap.add_argument('--batches', type=int, nargs='+', default=[1, 8], help='batch sizes')
    ap.add_argument('--ws', type=float, nargs='+', default=[0.0, 0.5], help='fidelity weights')
    ap.add_argument('--repeats', type=int, default=2, help='timed calls per setting (after one warm-up)')
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    ap.add_argument('--bf16', action='store_true', help='bf16 autocast (GPU)')
    ap.add_argument('--channels-last', action='store_true', help="also time ours in channels_last memory format ('ours+cl')")
    ap.add_argument('--upstream', metavar='PATH', help='directory with the upstream basicsr package, for the ratio')
    ap.add_argument('--no-flops', action='store_true', help='skip the FLOP count')
    ap.add_argument('--out', type=Path, help='also write the timings as JSON (e.g. results/benchmarks/codeformer_forward.json)')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    torch.manual_seed(0)

    ours = CodeFormer.from_arch('official').eval().to(device)
    nets = {'ours': ours}
    if a.channels_last:
        nets['ours+cl'] = CodeFormer.from_arch('official').eval().to(device, memory_format=torch.channels_last)
        nets['ours+cl'].load_state_dict(ours.state_dict())
    if a.upstream: nets['upstream'] = _load_upstream(a.upstream, ours.state_dict()).eval().to(device)
    params = {'total': count_parameters(ours), 'trainable': count_parameters(ours, trainable=True)}
    for net in nets.values(): net.requires_grad_(False)   # inference only (and FlopCounterMode's module hooks need it)

    print(f'device={device} threads={torch.get_num_threads()} bf16={a.bf16} torch={torch.__version__}')
    print(f'parameters: total {params["total"]:,}; trainable (codebook+generator frozen) {params["trainable"]:,}')
    for name in ('encoder', 'quantize', 'generator', 'ft_layers', 'fuse_convs_dict', 'idx_pred_layer', 'feat_emb'):
        print(f'  {name:16s} {count_parameters(getattr(ours, name)):>12,}')
    print(f'  {"position_emb":16s} {ours.position_emb.numel():>12,}')

    x1 = torch.rand(1, 3, 512, 512, device=device) * 2 - 1
    if not a.no_flops:
        for w in a.ws:
            total, per = _flops(ours, x1, w)
            split = ', '.join(f'{k} {v / 1e9:.0f}' for k, v in sorted(per.items(), key=lambda kv: -kv[1]))
            print(f'FLOPs per forward (batch 1, w={w}): {total / 1e9:.1f} GFLOP ({split})')
            if 'upstream' in nets:
                print(f'  upstream: {_flops(nets["upstream"], x1, w)[0] / 1e9:.1f} GFLOP')

    if len(nets) > 1:   # same weights, same input: outputs must agree
        with torch.inference_mode():
            ref = ours(x1, w=0.5, adain=True)[0]
            for n, net in nets.items():
                if n != 'ours': print(f'max |out_{n} - out_ours| at w=0.5: {(net(_fmt(x1, n), w=0.5, adain=True)[0] - ref).abs().max().item():.2e}')

    rows = []
    print('forward seconds per image: min (median) over repeats; ratio = upstream / variant')
    print(f'{"batch":>5} {"w":>4} ' + ' '.join(f'{n:>20}' for n in nets))
    for b in a.batches:
        x = torch.rand(b, 3, 512, 512, device=device) * 2 - 1
        for w in a.ws:
            ts = {n: [] for n in nets}
            for r in range(a.repeats + 1):       # interleaved, so that load changes on a shared machine hit all variants
                for n, net in nets.items():
                    t = _time_forward(net, _fmt(x, n), w, a.bf16)
                    if r: ts[n].append(t)         # the first round is a warm-up
            per_img = {n: (min(v) / b, statistics.median(v) / b) for n, v in ts.items()}
            row = ' '.join(f'{v[0]:10.2f} ({v[1]:6.2f})  ' for v in per_img.values())
            ratios = [f'{n} {per_img["upstream"][0] / v[0]:.2f}' for n, v in per_img.items() if n != 'upstream'] if 'upstream' in per_img else []
            print(f'{b:>5} {w:>4} {row}' + (f'  ratio: {", ".join(ratios)}' if ratios else ''), flush=True)
            rows.append(dict(batch=b, w=w, s_per_image={n: v[0] for n, v in per_img.items()},
                             ours_over_upstream={n: v[0] / per_img['upstream'][0] for n, v in per_img.items() if n != 'upstream'}
                             if 'upstream' in per_img else None))
    if a.out: write_record(a.out, __file__, argv, threads=torch.get_num_threads(), config='official 512 px, fp32, same weights', rows=rows)
    return 0


def _fmt(x, variant: str):
    "The input in the memory format of `variant`."
    return x.contiguous(memory_format=torch.channels_last) if variant.endswith('+cl') else x


if __name__ == '__main__':
    raise SystemExit(main())
