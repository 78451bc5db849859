"""Training step time and peak memory per stage, with and without the identity loss (per `id_reach`).

    python scripts/bench_training.py --scale smoke synth --steps 5

Each configuration runs in its own process (so peak RSS / peak CUDA memory belongs to it alone):
it builds the stage's trainer from freshly initialised stage-I/II/recognizer weights (timing does not
need trained ones), warms up, then times `train_step` on fixed batches. Stage III is timed separately
on a small-degradation iteration (decodes, image + GAN losses, D step) and a large code-only one.
Prints a table and the ratio of each identity-loss variant to its baseline. A benchmark, not a test.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

VARIANTS = [('II', 0.0, ''), ('II', 1.0, 'transformer'), ('II', 1.0, 'encoder'),
            ('III', 0.0, ''), ('III', 1.0, 'cft'), ('III', 1.0, 'transformer'), ('III', 1.0, 'encoder')]


def prepare(scale: str, out: Path) -> dict:
    "model.pt files of freshly initialised recognizer, stage-I and stage-II networks."
    from idcodeformer.training import TrainConfig, TRAINERS
    paths = {}
    for stage, extra in (('recognizer', {}), ('I', {}), ('II', {'vqgan_ckpt': 'I'})):
        kw = {k: paths[v] for k, v in extra.items()}
        cfg = TrainConfig.from_scale(scale, stage, out_dir=str(out), resume=False, **kw)
        paths[stage] = TRAINERS[stage](cfg).finish()['model']
    return paths


def _rss_mib() -> float:
    "Current resident set size of this process (Linux)."
    return int(Path('/proc/self/statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def one(scale, stage, lam, reach, steps, paths, device) -> dict:
    "Time `steps` training steps of one configuration in this process."
    import torch
    from idcodeformer.training import TrainConfig, TRAINERS, w_plan
    kw = dict(out_dir=tempfile.mkdtemp(), resume=False, device=device, vqgan_ckpt=paths['I'], lambda_ids=lam,
              disc_start=0, threads=int(os.environ.get('BENCH_THREADS', 1)))
    if lam: kw.update(id_net=paths['recognizer'], id_reach=reach)
    if stage == 'III': kw['init'] = paths['II']
    cfg = TrainConfig.from_scale(scale, stage, **kw)
    tr = TRAINERS[stage](cfg)
    kinds = {'step': 0} if stage == 'II' else {'small': 0, 'large': next(t for t in range(cfg.iters) if not w_plan(t, cfg).small)}
    res, rss0 = {}, _rss_mib()
    for kind, t in kinds.items():
        batch = {k: v.to(tr.device) for k, v in tr.batches[t].items() if k != 'iter'}
        for _ in range(2): tr.train_step(t, batch)                         # warm-up
        if tr.device.type == 'cuda': torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(steps): tr.train_step(t, batch)
        if tr.device.type == 'cuda': torch.cuda.synchronize()
        res[kind] = (time.perf_counter() - t0) / steps
    # CPU: growth of the peak resident set over the resident set after building (what the steps add)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if tr.device.type == 'cuda'
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss0)
    return {'scale': scale, 'stage': stage, 'lambda_ids': lam, 'id_reach': reach or '-', 'batch': cfg.batch_size,
            'seconds': res, 'peak_mib': round(max(peak, 0.1), 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--scale', nargs='+', default=['smoke', 'synth'])
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:                                                            # one configuration, result as JSON
        job = json.loads(a.child)
        print(json.dumps(one(**job)))
        return 0
    rows = []
    for scale in a.scale:
        with tempfile.TemporaryDirectory() as d:
            paths = prepare(scale, Path(d))
            for stage, lam, reach in VARIANTS:
                job = dict(scale=scale, stage=stage, lam=lam, reach=reach, steps=a.steps, paths=paths, device=a.device)
                out = subprocess.run([sys.executable, __file__, '--child', json.dumps(job)], capture_output=True, text=True)
                if out.returncode: print(out.stderr[-2000:], file=sys.stderr); return 1
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                r = rows[-1]
                print(f"{scale:6} {stage:4} λ={lam:<3g} {r['id_reach']:12} batch {r['batch']:3} "
                      + '  '.join(f'{k} {v * 1000:8.1f} ms' for k, v in r['seconds'].items())
                      + f"  step memory {r['peak_mib']:8.1f} MiB", flush=True)
    print('\nratio to the λ=0 baseline of the same scale and stage (time per step; peak memory)')
    for r in rows:
        if r['lambda_ids'] == 0: continue
        base = next(b for b in rows if b['scale'] == r['scale'] and b['stage'] == r['stage'] and b['lambda_ids'] == 0)
        print(f"{r['scale']:6} {r['stage']:4} {r['id_reach']:12} "
              + '  '.join(f"{k} ×{v / base['seconds'][k]:.2f}" for k, v in r['seconds'].items())
              + f"  memory ×{r['peak_mib'] / base['peak_mib']:.2f}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
