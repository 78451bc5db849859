"""Hand-made study records with known numbers, in the evaluator's format: the fixture of the report tests
(`nbs/12b_study.ipynb`) and of `nbs/figures.ipynb` under `nbdev_test`. Not part of the library."""
from pathlib import Path

import numpy as np
import pandas as pd

from idcodeformer.core import atomic_write_json, write_image
from idcodeformer.plan import CEILING
from idcodeformer.study import EVAL_RECORD, _wkey


def _write_eval(folder: Path, label: str, per: dict, extra: dict | None = None, fid: float = 10.0, verif=None, samples=()):
    "Write an evaluation record with per-image tables `per` {(severity, w): DataFrame} (for tests and examples)."
    results = []
    for (sev, w), df in per.items():
        key = f'{sev}_{_wkey(w)}'
        d = folder/'metrics'/key; d.mkdir(parents=True, exist_ok=True)
        df.to_csv(d/'per_image.csv', index=False)
        m = {c: {'mean': float(df[c].mean()), 'ci95': [float(df[c].quantile(0.025)), float(df[c].quantile(0.975))], 'n': int(df[c].notna().sum())}
             for c in df.columns if c != 'name'}
        sm = {'fid[random-weights]': {'value': fid}, 'fd[synth-feat]': {'value': fid / 100, 'kid': fid / 1000}}
        if verif: sm.update({k: {'accuracy': v, 'ci95': [v - 0.05, v + 0.05]} for k, v in verif[sev].items()})
        atomic_write_json(d/'summary.json', {'protocol': {'name': 'synth-v1'}, 'metrics': m, 'set_metrics': sm})
        results.append({'severity': sev, 'w': w, 'per_image': f'metrics/{key}/per_image.csv', 'summary': f'metrics/{key}/summary.json'})
    atomic_write_json(folder/EVAL_RECORD, {'label': label, 'results': results, 'samples': list(samples), 'mark_prevalence': DEMO_PREVALENCE,
                                           **({'extra': extra} if extra else {})})

def _demo_per_image(n=20, seed=0, ids_shift=0.0, psnr_shift=0.0, keep=0.5) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame({'name': [f'im{i:02d}' for i in range(n)], 'psnr': 22 + psnr_shift + r.normal(0, 1, n),
                         'lpips[random-vgg]': 0.3 + r.normal(0, 0.01, n), 'ids_loss': 0.6 + ids_shift + r.normal(0, 0.05, n),
                         'ids_judge': 0.5 + ids_shift + np.linspace(0, 0.1, n), 'deg_judge': 60 - 10 * ids_shift + r.normal(0, 2, n),
                         'ret_rare': np.where(np.arange(n) % 2, np.nan, keep), 'ret_mole': keep, 'ret_gt_mole': 0.9,
                         'ret_scar': np.where(np.arange(n) % 3, np.nan, keep / 2), 'ret_gt_scar': 0.8,
                         **{f'{k}_{g}': v for g in ('iris', 'all') for k, v in (('attr', 0.6 - ids_shift), ('attr_gt', 0.4),
                                                                                 ('pull', 0.2 - ids_shift + r.normal(0, 0.02, n)))}})

DEMO_PREVALENCE = {'mole': 0.3, 'scar': 0.03}

def demo_records(root, n_samples: int = 2) -> Path:
    """Hand-made evaluation records in the evaluator's format with known numbers (ID-CodeFormer's judge IDS is
    CodeFormer's + 0.05 on every image; the ablation's λ = 2 adds 0.02; the prevalence experiment's 30 % run keeps scars
    0.2 more often than its 2 % run): for tests of the tables and figures."""
    root, sev = Path(root), ('mild', 'severe')
    names = [f'im{i:02d}' for i in range(n_samples)]
    def samples(folder, keys, shade):
        for k in list(keys) + ['gt']:
            for i, n in enumerate(names): write_image(folder/'samples'/k/f'{n}.png', np.full((16, 16, 3), (40 * i + shade) % 255, np.uint8))
    _write_eval(root/'eval-lq', 'Input (LQ)', {(s, None): _demo_per_image(ids_shift=-0.2, psnr_shift=-3, keep=0.3) for s in sev},
                verif={s: {'verif_loss_gt': 0.95, 'verif_judge_gt': 0.9, 'verif_loss': 0.8 - 0.1 * i, 'verif_judge': 0.7 - 0.1 * i}
                       for i, s in enumerate(sev)}, samples=names)
    samples(root/'eval-lq', [f'{s}_lq' for s in sev], 10)
    _write_eval(root/'eval-vqgan', CEILING, {(s, None): _demo_per_image(ids_shift=0.3, psnr_shift=5) for s in sev}, fid=2.0, samples=names)
    samples(root/'eval-vqgan', [f'{s}_lq' for s in sev], 200)
    for label, run, shift, keep in (('CodeFormer', 'eval-base', 0.0, 0.5), ('ID-CodeFormer', 'eval-id', 0.05, 0.7)):
        _write_eval(root/run, label, {(s, w): _demo_per_image(ids_shift=shift, keep=keep) for s in sev for w in (0.0, 0.5, 1.0)}, samples=names)
        samples(root/run, [f'{s}_w{w:g}' for s in sev for w in (0.0, 0.5, 1.0)], 100 if shift else 60)
    for lam in (0.0, 1.0, 2.0):
        cells = [{'group': 'lambda', 'lambda': lam, 'reach': 'transformer', 'stages': 'III', 'reference': 'III-l0'}]
        if lam == 1.0: cells.append({**cells[0], 'group': 'grid'})
        _write_eval(root/'ablation'/f'eval-III-l{lam:g}', f'III-l{lam:g}', {(s, 0.5): _demo_per_image(ids_shift=0.01 * lam) for s in sev},
                    extra={'ablation': cells})
    for rate, keep in ((0.02, 0.2), (0.3, 0.6)):       # the prevalence experiment: scars kept 0.1 / 0.3 of the time
        _write_eval(root/f'eval-prev-scar{rate:g}', f'scar at {rate:g}', {(s, 0.5): _demo_per_image(keep=keep) for s in sev},
                    extra={'prevalence': {'mark': 'scar', 'rate': rate}})
    return root
