"""Does `torch.compile` speed up training on this CPU? A stage-II step (code-only) and a stage-III step (decoded at
w = 1) of the synth CodeFormer, batch 8, channels_last, one thread: eager against compiled (inductor), same weights.

    python scripts/bench_compile.py [--steps 15] [--out results/benchmarks/compile.json]

Prints the eager/compiled time ratio (> 1: compiling helps) and the compile time. A benchmark, not a test.
"""
import argparse, os, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_record import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=15); ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--scale', default='synth'); ap.add_argument('--out', type=Path)
    a = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get('BENCH_THREADS', 1))); torch.manual_seed(0)
    from idcodeformer.losses import code_ce_loss
    from idcodeformer.config import TrainConfig
    from idcodeformer.networks import make_codeformer
    cfg = TrainConfig.from_scale(a.scale, 'II', vqgan_ckpt='unused')
    net = make_codeformer(cfg).to(memory_format=torch.channels_last)
    x = (torch.rand(a.batch, 3, cfg.img_size, cfg.img_size) * 2 - 1).contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], 1e-4)

    def step(m, w):
        if w is None:
            logits, feat = m(x, code_only=True)
            loss = code_ce_loss(logits, torch.zeros(logits.shape[:2], dtype=torch.long)) + feat.pow(2).mean()
        else:
            out, _, feat = m(x, w=w); loss = out.abs().mean() + feat.pow(2).mean()
        opt.zero_grad(); loss.backward(); opt.step()

    def seconds(m, w):
        for _ in range(3): step(m, w)
        t = time.perf_counter()
        for _ in range(a.steps): step(m, w)
        return (time.perf_counter() - t) / a.steps

    rows = {}
    for name, w in (('II code-only', None), ('III decoded w=1', 1.0)):
        eager = seconds(net, w)
        t0 = time.perf_counter(); compiled = torch.compile(net); step(compiled, w); t_compile = time.perf_counter() - t0
        comp = seconds(compiled, w)
        rows[name] = {'eager_ms': round(eager * 1e3, 1), 'compiled_ms': round(comp * 1e3, 1),
                      'eager/compiled': round(eager / comp, 3), 'compile_s': round(t_compile, 1)}
        print(f'{name}: eager {eager * 1e3:.0f} ms, compiled {comp * 1e3:.0f} ms, eager/compiled {eager / comp:.2f}, '
              f'compile {t_compile:.0f} s', flush=True)
    if a.out: write_record(a.out, __file__, argv, threads=torch.get_num_threads(), batch=a.batch, scale=a.scale, steps=rows)


if __name__ == '__main__':
    main()
