#!/usr/bin/env python
"""Stage-I (VQGAN) configuration sweep at the synth scale: one candidate per process (one thread each).

    python scripts/sweep_stage1.py NAME [NAME ...]     # train the named candidates (resumable)
    python scripts/sweep_stage1.py --collect            # gather every candidate's validation curve into
                                                        # results/tuning/stage1_sweep.csv

Each candidate is an architecture (registered here, built from the synth architecture with overrides) plus stage-I
training overrides. The record of what was tried is the CSV; the chosen candidate becomes the synth architecture.
"""
import argparse, csv, json, sys
from pathlib import Path
from idcodeformer.core import ROOT
from idcodeformer.models import vqgan, codeformer
from idcodeformer.training import TrainConfig, train

# name: (VQGAN overrides of the synth architecture, stage-I TrainConfig overrides)
CANDIDATES = {
    'f8-base':       (dict(), dict(disc_start=10**9)),
    'f4-c512':       (dict(ch_mult=(1, 2, 2)), dict(disc_start=10**9)),
    'f4-c1024':      (dict(ch_mult=(1, 2, 2), codebook_size=1024), dict(disc_start=10**9)),
    'f4-c512-rb2':   (dict(ch_mult=(1, 2, 2), res_blocks=2), dict(disc_start=10**9)),
    'f4-g8':         (dict(ch_mult=(1, 2, 2), norm_groups=8), dict(disc_start=10**9)),
    'f4-g1':         (dict(ch_mult=(1, 2, 2), norm_groups=1), dict(disc_start=10**9)),
    'f4-g8-b16':     (dict(ch_mult=(1, 2, 2), norm_groups=8), dict(disc_start=10**9, batch_size=16, lr=1e-3, eta_min=2e-4)),
    'f4-c512-nf64':  (dict(ch_mult=(1, 1, 2), nf=64), dict(disc_start=10**9)),
}
OUT = 'runs/sweep-stage1'

def register(name: str) -> str:
    "Register candidate `name` as an architecture `sweep-NAME` (VQGAN and CodeFormer) and return its name."
    model, _ = CANDIDATES[name]
    key = f'sweep-{name}'
    vqgan.VQGAN_ARCHS[key] = {**vqgan.VQGAN_ARCHS['synth'], **model}
    codeformer.CODEFORMER_ARCHS[key] = {**codeformer.CODEFORMER_ARCHS['synth'], **model}
    return key

def config(name: str, iters: int) -> TrainConfig:
    _, over = CANDIDATES[name]
    kw = dict(iters=iters, lr_period=iters, channels_last=True, progress=False, val_every=250, ckpt_every=250, run_name=name, out_dir=OUT)
    return TrainConfig.from_scale('synth', 'I', arch=register(name), **{**kw, **over})

def collect() -> Path:
    rows = []
    for name in CANDIDATES:
        folder = ROOT / OUT / name
        if not (folder / 'val.csv').is_file(): continue
        cfg = json.loads((folder / 'config.json').read_text())
        model, over = CANDIDATES[name]
        losses = list(csv.DictReader(open(folder / 'losses.csv')))
        ips = sum(float(r['it_per_s']) for r in losses) / max(len(losses), 1) * cfg['batch_size']
        for r in csv.DictReader(open(folder / 'val.csv')):
            rows.append({'candidate': name, 'model': json.dumps(model), 'train': json.dumps(over), 'batch': cfg['batch_size'],
                         'lr': cfg['lr'], 'img_per_s': round(ips, 2), **r})
    ref = ROOT / 'results' / 'runs' / 'synth' / 'stage1'          # the recorded study's stage I before the sweep
    if (ref / 'val.csv').is_file():
        cfg = json.loads((ref / 'config.json').read_text())
        for r in csv.DictReader(open(ref / 'val.csv')):
            rows.insert(0, {'candidate': 'f8-g32 (earlier preset, GAN from 800)', 'model': json.dumps(dict(ch_mult=[1, 1, 2, 4], norm_groups=32)),
                            'train': json.dumps(dict(disc_start=cfg['disc_start'], gan_weight=cfg['gan_weight'])), 'batch': cfg['batch_size'],
                            'lr': cfg['lr'], 'img_per_s': '', **r})
    out = ROOT / 'results' / 'tuning' / 'stage1_sweep.csv'
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader(); w.writerows(rows)
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name in dict.fromkeys(r['candidate'] for r in rows):
        pts = [(int(r['iter']), float(r['psnr'])) for r in rows if r['candidate'] == name]
        batch = next(int(r['batch']) for r in rows if r['candidate'] == name)
        ax.plot([i * batch for i, _ in pts], [p for _, p in pts], marker='o', ms=3, label=name)
    ax.set(xlabel='training images seen', ylabel='validation PSNR (dB, EMA)', title='Stage I at 64 px: what was tried')
    ax.axhline(26, color='gray', ls=':', lw=1); ax.grid(alpha=0.3); ax.legend(fontsize=7)
    fig.tight_layout()
    for ext in ('png', 'pdf'): fig.savefig(out.with_suffix(f'.{ext}'), dpi=150)
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('names', nargs='*', help=f'candidates: {", ".join(CANDIDATES)}')
    ap.add_argument('--iters', type=int, default=2000)
    ap.add_argument('--collect', action='store_true')
    a = ap.parse_args()
    if a.collect: print(collect()); sys.exit(0)
    if bad := [n for n in a.names if n not in CANDIDATES]: ap.error(f'unknown candidate(s) {bad}; expected {list(CANDIDATES)}')
    for n in a.names: print(json.dumps(train(config(n, a.iters)), default=str))
