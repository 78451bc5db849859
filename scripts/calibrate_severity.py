#!/usr/bin/env python
"""Calibrate Synth-Test's severities: LQ PSNR and judge verification accuracy for candidate degradations.

    python scripts/calibrate_severity.py JUDGE.pt [--identities 50] [--per-identity 4]

For each candidate (a named degradation at the test size with the downsample range overridden) the unseen
test identities are degraded once, and the judge recognizer scores verification pairs of an LQ face against
another image's HQ face (the evaluator's definition) and of two HQ faces (the ceiling). Writes
results/tuning/severity.csv (one block of rows per judge; a judge's earlier rows are replaced).
"""
import argparse, csv, dataclasses
import numpy as np
import torch
from idcodeformer.core import ROOT, img2tensor
from idcodeformer.data import identity_name, make_verification_pairs
from idcodeformer.degradations import degrade, degradation_for_size
from idcodeformer.evaluation import load_embedder
from idcodeformer.metrics import psnr, verification_accuracy
from idcodeformer.data import SynthSource

# name: (named degradation, downsample range at the test size or None for its own)
CANDIDATES = {'mild (stage3_small, scaled)': ('stage3_small', None), 'severe (stage2, scaled)': ('stage2', None),
              'stage2, down 2-4': ('stage2', (2, 4)), 'stage2, down 2-6': ('stage2', (2, 6)),
              'stage2, down 3-6': ('stage2', (3, 6)), 'stage2, down 4-8': ('stage2', (4, 8)),
              'stage3_small, down 1-3': ('stage3_small', (1, 3)), 'synth_severe': ('synth_severe', None)}

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('judge'); ap.add_argument('--identities', type=int, default=50); ap.add_argument('--per-identity', type=int, default=4)
    ap.add_argument('--label', default='', help='name of the judge in the table (default: its path)')
    ap.add_argument('--size', type=int, default=64); ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    src = SynthSource(a.identities, a.per_identity, a.size, a.seed, split='test', cache_dir='data/cache')
    hq = np.stack([src.image(i) for i in range(len(src))])
    names = [identity_name(k) for k in range(a.identities)]
    pairs = make_verification_pairs({n: a.per_identity for n in names}, 300, np.random.default_rng(a.seed))
    ix = {n: k for k, n in enumerate(names)}
    i1 = np.array([ix[p.name1] * a.per_identity + p.i - 1 for p in pairs]); i2 = np.array([ix[p.name2] * a.per_identity + p.j - 1 for p in pairs])
    same = np.array([p.same for p in pairs])
    judge = load_embedder(a.judge).embedder
    emb = lambda x: torch.nn.functional.normalize(judge.embed(img2tensor(x)).double(), dim=1).numpy()
    e_hq = emb(hq)
    rows = []
    for name, (deg, down) in CANDIDATES.items():
        cfg = degradation_for_size(deg, a.size)
        if down is not None: cfg = dataclasses.replace(cfg, downsample_range=tuple(float(d) for d in down))
        lq = np.stack([degrade(g, cfg, np.random.default_rng([a.seed, 0x5E7, i]))[0] for i, g in enumerate(hq)])
        e_lq = emb(lq)
        rows.append({'judge': a.label or a.judge, 'candidate': name, 'downsample': cfg.downsample_range, 'blur_sigma': cfg.blur_sigma,
                     'noise': cfg.noise_range, 'jpeg': cfg.jpeg_range, 'lq_psnr': round(float(psnr(lq, hq).mean()), 2),
                     'ids_judge': round(float((e_lq * e_hq).sum(1).mean()), 3),
                     'verif_lq_vs_hq': round(verification_accuracy((e_lq[i1] * e_hq[i2]).sum(1), same), 3),
                     'verif_lq_vs_lq': round(verification_accuracy((e_lq[i1] * e_lq[i2]).sum(1), same), 3),
                     'verif_hq': round(verification_accuracy((e_hq[i1] * e_hq[i2]).sum(1), same), 3)})
        print(rows[-1], flush=True)
    out = ROOT / 'results' / 'tuning' / 'severity.csv'
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_file(): rows = [r for r in csv.DictReader(open(out)) if r.get('judge') != rows[0]['judge']] + rows   # other judges' rows stay
    with open(out, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    print(out)

if __name__ == '__main__': main()
