"""Training throughput of the synth training scale, images per second on one core, before and after the competent-restorer
changes (stage I, II and III steps).

    python scripts/bench_throughput.py [--steps 10] [--out results/benchmarks/training_throughput.json]

Configurations (each in its own process, one thread, fixed batches, two warm-up steps):
- before: the earlier synth architecture (8×8 latent grid, 32 GroupNorm groups), NCHW tensors;
- after-nchw: today's synth architecture (16×16 grid, 8 groups), NCHW;
- after: today's synth architecture with channels_last (the synth training scale's default).
Prints img/s per configuration and stage and the ratios after/before and after/after-nchw. A benchmark, not a test:
run it on an otherwise idle machine.
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = dict(ch_mult=(1, 1, 2, 4), norm_groups=32)       # the synth VQGAN before the sweep of results/tuning/stage1_sweep.csv
CONFIGS = {'before': ('bench-before', False), 'after-nchw': ('synth', False), 'after': ('synth', True)}
KINDS = ('I', 'II', 'III')


def register_before() -> str:
    from idcodeformer.models import codeformer, vqgan
    vqgan.VQGAN_ARCHS['bench-before'] = {**vqgan.VQGAN_ARCHS['synth'], **BEFORE}
    codeformer.CODEFORMER_ARCHS['bench-before'] = {**codeformer.CODEFORMER_ARCHS['synth'], **BEFORE}
    return 'bench-before'


def child(config: str, steps: int) -> dict:
    "img/s of each stage's step for one configuration, in this process (one thread)."
    import torch
    from idcodeformer.training import TRAINERS, TrainConfig
    torch.set_num_threads(1)
    register_before()
    arch, cl = CONFIGS[config]
    out = tempfile.mkdtemp()
    common = dict(arch=arch, channels_last=cl, out_dir=out, resume=False, progress=False, threads=1, disc_start=0)
    vq = TRAINERS['I'](TrainConfig.from_scale('synth', 'I', run_name='I', **common))
    res = {'I': _time(vq, 0, steps)}
    vq_path = vq.finish()['model']
    cf = TRAINERS['II'](TrainConfig.from_scale('synth', 'II', run_name='II', vqgan_ckpt=vq_path, **common))
    res['II'] = _time(cf, 0, steps)
    cfg3 = TrainConfig.from_scale('synth', 'III', run_name='III', vqgan_ckpt=vq_path, init=cf.finish()['model'], **common)
    t3 = TRAINERS['III'](cfg3)
    res['III'] = _time(t3, 0, steps)       # the synth schedule's only kind: small degradation, decoded at w = 1, GAN on
    return res


def _time(trainer, t: int, steps: int) -> float:
    "Images per second of `train_step` on the batch of iteration `t` (laid out as `Trainer.fit` lays it out)."
    import torch
    batch = {k: v.to(trainer.device) for k, v in trainer.batches[t].items() if k != 'iter'}
    if trainer.cfg.channels_last: batch = {k: v.contiguous(memory_format=torch.channels_last) if v.ndim == 4 else v for k, v in batch.items()}
    for _ in range(2): trainer.train_step(t, batch)
    t0 = time.perf_counter()
    for _ in range(steps): trainer.train_step(t, batch)
    return trainer.cfg.batch_size * steps / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--out', type=Path, default=ROOT/'results'/'benchmarks'/'training_throughput.json')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child: print(json.dumps(child(a.child, a.steps))); return 0
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
    rows = {}
    for name in CONFIGS:
        r = subprocess.run([sys.executable, __file__, '--child', name, '--steps', str(a.steps)], capture_output=True, text=True, env=env)
        if r.returncode: print(r.stderr[-3000:], file=sys.stderr); return 1
        rows[name] = json.loads(r.stdout.strip().splitlines()[-1])
    ratios = {f'{x}/{y}': {k: round(rows[x][k] / rows[y][k], 3) for k in KINDS} for x, y in (('after', 'before'), ('after', 'after-nchw'))}
    print(f'{"img/s per core":16s}' + ''.join(f'{k:>11s}' for k in KINDS))
    for name, r in rows.items(): print(f'{name:16s}' + ''.join(f'{r[k]:11.1f}' for k in KINDS))
    for name, r in ratios.items(): print(f'{name:16s}' + ''.join(f'{r[k]:10.2f}x' for k in KINDS))
    import torch
    rec = {'benchmark': 'training_throughput', 'unit': 'images per second, one thread', 'steps': a.steps,
           'configs': {k: {'arch': v[0], 'channels_last': v[1], **({'overrides': BEFORE} if k == 'before' else {})} for k, v in CONFIGS.items()},
           'img_per_s': {k: {s: round(v, 2) for s, v in r.items()} for k, r in rows.items()}, 'ratios': ratios,
           'machine': {'cpu': platform.processor() or platform.machine(), 'cores': os.cpu_count(), 'threads': 1,
                       'python': platform.python_version(), 'torch': torch.__version__}, 'date': time.strftime('%Y-%m-%d')}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rec, indent=2, sort_keys=True) + '\n')
    print(a.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
