#!/usr/bin/env python
"""onnxruntime against torch for the restorer's forward on CPU, same weights (random), w = 0.5.

For each config (synth 64 px, official 512 px) the model is exported with `idcodeformer.onnx_export`, checked
(max |ORT - torch|), and both run interleaved at batch 1 (and 8 for synth): torch in NCHW as upstream, torch with
channels_last (restore's default), onnxruntime. Prints seconds per face and the ratios; writes
results/benchmarks/onnx.json (machine, threads, versions).

    python scripts/bench_onnx.py --threads 2
"""
from __future__ import annotations
import argparse, statistics, sys, tempfile, time
from pathlib import Path

import torch

from bench_record import write_record

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--archs', default='synth,official')
    ap.add_argument('--out', type=Path, default=ROOT / 'results' / 'benchmarks' / 'onnx.json')
    a = ap.parse_args(argv)
    import onnxruntime
    from idcodeformer.models.codeformer import CodeFormer
    from idcodeformer.onnx_export import OnnxRestorer, check_onnx, export_onnx
    torch.set_num_threads(a.threads)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for arch in a.archs.split(','):
            torch.manual_seed(0)
            nchw = CodeFormer.from_arch(arch).eval()
            cl = CodeFormer.from_arch(arch).eval(); cl.load_state_dict(nchw.state_dict())
            path = export_onnx(nchw, Path(d) / f'{arch}.onnx')
            diff = max(check_onnx(path, nchw, batch=1).values())
            ort = OnnxRestorer(path, threads=a.threads)
            size = nchw.config.img_size
            for batch in ((1, 8) if arch != 'official' else (1,)):
                x = torch.rand(batch, 3, size, size) * 2 - 1
                run = {'torch': lambda: nchw.restore(x, w=0.5, batch_size=batch),
                       'torch+channels_last': lambda: cl.restore(x, w=0.5, batch_size=batch, channels_last=True),
                       'onnxruntime': lambda: ort.restore(x, 0.5, batch_size=batch)}
                times = {k: [] for k in run}
                for f in run.values(): f()                                 # warm-up
                for _ in range(a.repeats):
                    for k, f in run.items():
                        t = time.perf_counter(); f(); times[k].append((time.perf_counter() - t) / batch)
                med = {k: statistics.median(v) for k, v in times.items()}
                row = dict(arch=arch, img_size=size, batch=batch, s_per_face=med, max_abs_diff=diff,
                           ort_over_torch=med['onnxruntime'] / med['torch'],
                           ort_over_torch_channels_last=med['onnxruntime'] / med['torch+channels_last'],
                           channels_last_over_nchw=med['torch+channels_last'] / med['torch'])
                rows.append(row)
                print(f"{arch} {size} px batch {batch}: s/face torch {med['torch']:.4f}, channels_last {med['torch+channels_last']:.4f}, "
                      f"ORT {med['onnxruntime']:.4f}; ORT/torch {row['ort_over_torch']:.2f}, ORT/channels_last "
                      f"{row['ort_over_torch_channels_last']:.2f}, channels_last/NCHW {row['channels_last_over_nchw']:.2f} "
                      f"(max |ORT - torch| {diff:.1e})", flush=True)
    write_record(a.out, __file__, argv, threads=a.threads, onnxruntime=onnxruntime.__version__, rows=rows)
    return 0


if __name__ == '__main__':
    sys.exit(main())
