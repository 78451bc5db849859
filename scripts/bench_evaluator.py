"""Benchmark: the one-pass evaluator vs one pass per metric (the way upstream metric scripts work).

Each separate pass walks the folders, decodes every image again and runs its network one image at a
time (VQFR's `metric_paper/*.py`, BasicSR's `calculate_psnr_ssim.py`); the one-pass evaluator decodes
each pair once and batches every network. Both build their networks once; both are timed end to end.
Runs offline with substitute networks (random LPIPS trunk, self-made FID Inception in a temporary
TORCH_HOME, small random recognizers) — the speed does not depend on the weights' values.

    python scripts/bench_evaluator.py --identities 8 --images 3 --size 64 --threads 2
"""
import argparse, json, os, tempfile, time
from pathlib import Path

import cv2
import numpy as np
import torch


def separate_passes(restored, gt, nets, manifest, clf, lmr, lpips_net):
    "One pass per metric, each decoding every image itself and scoring it alone; returns (per-metric dict, seconds)."
    from idcodeformer import metrics as M
    from idcodeformer.core import img2tensor, list_images, read_image
    names = [p.stem for p in list_images(gt)]
    def pairs():   # a fresh decode for every metric, as separate scripts do
        for n in names: yield n, read_image(Path(restored)/f'{n}.png'), read_image(Path(gt)/f'{n}.png')
    recs = {r['name']: r for r in json.loads(Path(manifest).read_text())['images']}
    out, t0 = {}, time.time()
    out['psnr'] = [M.psnr(r, g).item() for _, r, g in pairs()]
    out['ssim'] = [M.ssim(r, g).item() for _, r, g in pairs()]
    lp = M.LPIPSMetric(lpips_net, 'random')
    out[lp.name] = [lp(img2tensor(r[None]), img2tensor(g[None])).item() for _, r, g in pairs()]
    inc = M.InceptionFeatures(allow_unverified=True)
    fr, fg = zip(*[(inc(img2tensor(r[None], (0, 1))), inc(img2tensor(g[None], (0, 1)))) for _, r, g in pairs()])
    out['fid'] = M.frechet_distance(*M.feature_stats(np.concatenate(fr)), *M.feature_stats(np.concatenate(fg)))
    for role, net in nets.items():
        s = [M.identity_scores(net, img2tensor(r[None]), img2tensor(g[None])) for _, r, g in pairs()]
        out[f'ids_{role}'] = [c.item() for c, _ in s]
        out[f'deg_{role}'] = [d.item() for _, d in s]
    from idcodeformer.models.arcface import resnet_arcface
    torch.manual_seed(0)
    vq = M.VQFRDeg(net=resnet_arcface())
    out['deg_vqfr'] = [vq([cv2.imread(str(Path(restored)/f'{n}.png'), 0)], [cv2.imread(str(Path(gt)/f'{n}.png'), 0)]).item()
                       for n in names]
    out['lmd'] = [M.landmark_distance(lmr(r[None]), np.array([recs[n]['landmarks']]))[0] for n, r, g in pairs()]
    out['ret_all'] = [M.mark_retention(np.array([[recs[n]['marks'][m] for m in clf.marks]]), clf.predict(r[None]), clf.marks)['ret_all'][0]
                      for n, r, g in pairs()]
    return out, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--identities', type=int, default=8); ap.add_argument('--images', type=int, default=3)
    ap.add_argument('--size', type=int, default=64); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=16); ap.add_argument('--lpips-net', default='vgg')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix='bench_eval_'))
    os.environ['TORCH_HOME'], os.environ['IDCODEFORMER_HOME'] = str(tmp/'torch'), str(tmp/'cache')
    from idcodeformer import metrics as M, probes
    from idcodeformer.data import build_synth_test
    from idcodeformer.evaluation import evaluate, get_protocol
    from idcodeformer.models import arcface as A
    man = build_synth_test(tmp/'synth', n_identities=args.identities, images_per_identity=args.images, size=args.size, seed=0)
    M.write_random_fid_weights(seed=0)
    torch.manual_seed(0)
    s = args.size
    nets = {'loss': A.TorchEmbedder(A.ir_se_small(input_size=s).eval()), 'judge': A.TorchEmbedder(A.iresnet_small(input_size=s).eval())}
    cfg = probes.AttrNetConfig(size=s - s % 16 or 16)
    clf, lmr = probes.MarkClassifier(list(json.loads(man.read_text())['mark_prevalence']), cfg), probes.LandmarkRegressor(5, cfg)
    restored, gt = tmp/'synth'/'mild', tmp/'synth'/'hq'
    n = len(list(gt.iterdir()))
    metrics = ['psnr', 'ssim', 'lpips', 'fid', 'ids', 'deg', 'deg_vqfr', 'lmd', 'marks']
    proto = get_protocol('synth-v1', lpips_net=args.lpips_net, n_boot=1000)

    sep, t_sep = separate_passes(restored, gt, nets, man, clf, lmr, args.lpips_net)
    t0 = time.time()
    res = evaluate(restored, gt, metrics, proto, id_nets=nets, manifest=man, mark_classifier=clf, landmark_model=lmr,
                   substitutes=True, batch_size=args.batch_size, progress=False, fid_cache=tmp/'fidcache')
    t_one = time.time() - t0

    df = res.per_image
    worst = {}
    for k, v in sep.items():
        if k == 'fid': worst[k] = abs(res.summary['set_metrics']['fid[unverified-weights]']['value'] - v) / max(1.0, abs(v)); continue
        col = {'deg_vqfr': 'deg_vqfr[random-weights]'}.get(k, k)
        col = col if col in df else next(c for c in df.columns if c.startswith(k))
        worst[k] = float(np.nanmax(np.abs(df[col].to_numpy(np.float64) - np.asarray(v, np.float64)))) if len(v) else 0.0
    print(f'{n} images {args.size}px, {args.threads} threads, metrics: {", ".join(metrics)} (lpips={args.lpips_net})')
    print(f'  one pass : {t_one:7.2f} s  {n / t_one:6.2f} img/s   (includes network setup, bootstrap and summary)')
    print(f'  per metric: {t_sep:7.2f} s  {n / t_sep:6.2f} img/s')
    print(f'  speed-up : {t_sep / t_one:.2f}x')
    print('  largest difference per metric (abs; FID relative):', {k: float(f'{v:.2g}') for k, v in worst.items()})


if __name__ == '__main__':
    main()
