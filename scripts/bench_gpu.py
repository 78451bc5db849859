#!/usr/bin/env python
"""The GPU benchmark, ready for a machine with a CUDA device (runs on CPU in a tiny configuration for the tests).

1. Forward (restoration, `adain=True`, w = 0.5): faces/s at batch 1, 8 and 32 in fp32 and bf16, each with and without
   channels_last and torch.compile, and the peak memory of each.
2. A stage-III training step with L_ids at 512 px, batch 4: CodeFormer (CFT, encoder and transformer trainable, codebook
   and generator frozen as upstream) with CE + feature L2 + L1 + hinge GAN (PatchGAN) + 1 - cos(IR-SE50) and the
   discriminator's step; the step time and the peak memory (target: fits in 16 GB). The weights are random: speed and
   memory do not depend on them.
3. With `--study SIZE`: the whole study of that size (`scripts/run_study.py`, e.g. gpu128, the synth study at 128 px with
   every training and evaluation step on CUDA), its wall time and headline numbers; its records stay in its runs folder.

    python scripts/bench_gpu.py --device cuda --study gpu128 --out results/benchmarks/gpu.json
    python scripts/bench_gpu.py --device cpu --tiny --study smoke --study-until stage1 --out /tmp/gpu.json   # what the tests run

Writes one JSON record (machine, versions, every measurement) and prints a table.
"""
from __future__ import annotations
import argparse, json, subprocess, sys, time
from pathlib import Path

import torch
import torch.nn.functional as F

from bench_record import write_record


def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)


def _peak(dev) -> float | None:
    return torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == 'cuda' else None


def _reset(dev):
    if dev.type == 'cuda': torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(dev)


def forward_rows(arch: str, dev, batches, repeats: int, compile_too: bool) -> list[dict]:
    from idcodeformer.models.codeformer import CodeFormer
    rows = []
    for dtype in ('fp32', 'bf16'):
        if dtype == 'bf16' and dev.type == 'cuda' and not torch.cuda.is_bf16_supported(): continue
        for cl in (False, True):
            for comp in ((False, True) if compile_too else (False,)):
                torch.manual_seed(0)
                net = CodeFormer.from_arch(arch).eval().to(dev)
                if cl: net = net.to(memory_format=torch.channels_last)
                fn = torch.compile(net) if comp else net
                size = net.config.img_size
                for b in batches:
                    _reset(dev)
                    x = torch.rand(b, 3, size, size, device=dev) * 2 - 1
                    if cl: x = x.contiguous(memory_format=torch.channels_last)
                    ctx = lambda: torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dtype == 'bf16')
                    with torch.inference_mode(), ctx():
                        fn(x, w=0.5, adain=True)                  # warm-up (and compilation)
                        _sync(dev); t = time.perf_counter()
                        for _ in range(repeats): fn(x, w=0.5, adain=True)
                        _sync(dev); dt = (time.perf_counter() - t) / repeats
                    rows.append(dict(part='forward', arch=arch, dtype=dtype, channels_last=cl, compile=comp, batch=b,
                                     faces_per_s=round(b / dt, 3), peak_gib=_peak(dev)))
                    print(f"forward {arch} {dtype} cl={cl!s:5} compile={comp!s:5} batch {b:3d}: {b / dt:9.2f} faces/s"
                          + (f", peak {rows[-1]['peak_gib']:.2f} GiB" if dev.type == 'cuda' else ''), flush=True)
    return rows


def train_step_row(arch: str, rec_depth: int | None, batch: int, dev, repeats: int) -> dict:
    "Step time and peak memory of one stage-III iteration with L_ids (generator, then discriminator)."
    from idcodeformer.losses import IdentityLoss, code_ce_loss, d_hinge_loss, feat_l2_loss, g_hinge_loss, l1_loss
    from idcodeformer.models.arcface import ir_se, ir_se_small
    from idcodeformer.models.codeformer import CodeFormer
    from idcodeformer.models.vqgan import VQGANDiscriminator
    torch.manual_seed(0)
    net = CodeFormer.from_arch(arch, lookup='st').train().to(dev)
    disc = VQGANDiscriminator(ndf=64 if arch == 'official' else 16, n_layers=4 if arch == 'official' else 2).to(dev)
    rec = ir_se(rec_depth) if rec_depth else ir_se_small(input_size=32)
    ids = IdentityLoss(rec).to(dev)
    opt_g = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=5e-5)
    opt_d = torch.optim.Adam(disc.parameters(), lr=5e-5)
    size, k = net.config.img_size, net.config.codebook_size
    gt = torch.rand(batch, 3, size, size, device=dev) * 2 - 1
    lq = F.interpolate(F.interpolate(gt, scale_factor=0.125, mode='area'), size=size, mode='bilinear')
    idx = torch.randint(0, k, (batch, net.config.latent_size), device=dev)
    _reset(dev)
    times = []
    for i in range(repeats + 1):
        _sync(dev); t = time.perf_counter()
        out, logits, lq_feat = net(lq, w=1.0)
        loss = (0.5 * code_ce_loss(logits, idx) + feat_l2_loss(lq_feat, net.quantize.embedding.weight[idx].transpose(1, 2).reshape_as(lq_feat))
                + l1_loss(out, gt) + 0.1 * g_hinge_loss(disc(out)) + ids(out, gt).loss)
        opt_g.zero_grad(set_to_none=True); loss.backward(); opt_g.step()
        d = d_hinge_loss(disc(gt), disc(out.detach()))
        opt_d.zero_grad(set_to_none=True); d.backward(); opt_d.step()
        _sync(dev)
        if i: times.append(time.perf_counter() - t)                   # the first step warms up
    row = dict(part='train_step_III_ids', arch=arch, img_size=size, batch=batch, recognizer=f'ir_se{rec_depth}' if rec_depth else 'ir_se_small',
               step_s=round(sum(times) / len(times), 4), peak_gib=_peak(dev))
    if dev.type == 'cuda': row['fits_16gb'] = row['peak_gib'] < 16
    print(f"stage-III step with L_ids, {arch} {size} px, batch {batch}: {row['step_s']:.3f} s"
          + (f", peak {row['peak_gib']:.2f} GiB" if dev.type == 'cuda' else ''), flush=True)
    return row


STUDY_KEYS = ('study_minutes', 'study_step_minutes', 'vqgan_recon_psnr', 'vqgan_recon_ids_judge', 'd_ids_judge_severe_bestw_base_vs_lq',
              'fd_severe_w0.5_base', 'fd_severe_lq', 'fd_mild_w0.5_base', 'fd_mild_lq', 'd_ids_judge_severe_matched_psnr',
              'd_ids_judge_severe_matched_psnr_lo', 'd_ids_judge_severe_matched_psnr_hi', 'd_ids_judge_severe_matched_psnr_seed_sd')


def study_row(size: str, jobs: int, until: str | None, folder: Path | None) -> dict:
    "Run the study of `size` with scripts/run_study.py (its log beside this record's); its wall time and headline numbers."
    where = ['--runs', str(folder / 'runs'), '--results', str(folder / 'results')] if folder else []
    cmd = [sys.executable, str(Path(__file__).with_name('run_study.py')), '--size', size, '--no-paper', '--jobs', str(jobs),
           *where, *(['--until', until] if until else [])]
    log_path = (folder or Path(__file__).resolve().parents[1] / 'runs' / size) / 'bench_study.log'
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with open(log_path, 'w') as log: rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    minutes = (time.perf_counter() - t) / 60
    if rc: raise SystemExit(f'error: the {size} study failed (exit {rc}); its log: {log_path}')
    results = folder / 'results' if folder else Path(__file__).resolve().parents[1] / 'runs' / size / 'results'
    nums = results / 'metrics' / 'study.json'
    got = json.loads(nums.read_text()) if nums.is_file() else {}        # absent when --study-until stops before the figures
    row = dict(part='study', size=size, jobs=jobs, until=until, minutes=round(minutes, 2), log=str(log_path),
               **{k: got[k] for k in STUDY_KEYS if k in got})
    print(f"study {size}{f' until {until}' if until else ''}, {jobs} steps at a time: {minutes:.1f} min"
          + ''.join(f', {k} {got[k]}' for k in ('vqgan_recon_ids_judge', 'd_ids_judge_severe_matched_psnr') if k in got), flush=True)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--tiny', action='store_true', help='smoke models, small batches, one repeat (CPU tests)')
    ap.add_argument('--no-compile', action='store_true', help='skip the torch.compile variants')
    ap.add_argument('--out', type=Path, required=True)
    ap.add_argument('--study', metavar='SIZE', help='also run and time the study of this size (gpu128: the synth study at 128 px on CUDA)')
    ap.add_argument('--study-jobs', type=int, default=4, metavar='N', help='steps of the study at a time (default 4)')
    ap.add_argument('--study-until', metavar='STEP', help='stop the study after this step')
    ap.add_argument('--study-dir', type=Path, help='runs/ and results/ of the study go here (default: runs/SIZE/)')
    a = ap.parse_args(argv)
    dev = torch.device(a.device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        print('error: --device cuda but no CUDA device is visible (use --device cpu --tiny for a dry run)', file=sys.stderr); return 2
    arch, batches, repeats = ('smoke', (1, 2), 1) if a.tiny else ('official', (1, 8, 32), 10)
    rows = forward_rows(arch, dev, batches, repeats, compile_too=not a.no_compile and not a.tiny)
    rows.append(train_step_row(arch, None if a.tiny else 50, 2 if a.tiny else 4, dev, 1 if a.tiny else 5))
    if a.study: rows.append(study_row(a.study, a.study_jobs, a.study_until, a.study_dir))
    write_record(a.out, __file__, argv, device=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
                 threads=torch.get_num_threads(), cuda=torch.version.cuda, tiny=a.tiny, rows=rows)
    return 0


if __name__ == '__main__':
    sys.exit(main())
