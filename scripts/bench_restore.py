"""Benchmark of `idcodeformer.restore` (not a test).

1. Aligned restoration throughput (images/s) at batch 1 vs batch B with a randomly initialised model of the
   given preset (default: official, 512 px).
2. In-the-wild photographs (real photographs shipped with scikit-image and insightface): share of time in
   detection, alignment, the network and paste-back, from the per-phase timings `FaceRestorer` records.

    python scripts/bench_restore.py --threads 2                       # CPU, official 512
    python scripts/bench_restore.py --device cuda --batch 8 --bf16    # GPU
"""
import argparse, json, time
from pathlib import Path

import numpy as np
import torch


def aligned_throughput(model, batch: int, n: int, bf16: bool) -> float:
    "Images per second restoring `n` random aligned faces in batches of `batch` (after a one-image warm-up)."
    from idcodeformer.restore import FaceRestorer
    size = model.config.img_size
    faces = np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    fr = FaceRestorer(model, w=0.5, batch_size=batch, bf16=bf16)
    fr.restore_faces(faces[:1])                          # warm-up (first-call allocations; cuDNN autotuning on GPU)
    if next(model.parameters()).is_cuda: torch.cuda.synchronize()
    t = time.perf_counter()
    fr.restore_faces(faces)
    if next(model.parameters()).is_cuda: torch.cuda.synchronize()
    return n / (time.perf_counter() - t)


def photo_phases(model, photos: dict, bf16: bool) -> dict:
    "Per-photo phase timings (s) and shares of the total, cascade detector."
    from idcodeformer.faces import CascadeDetector
    from idcodeformer.restore import FaceRestorer
    fr = FaceRestorer(model, w=0.5, detector=CascadeDetector(), batch_size=8, bf16=bf16)
    out = {}
    for name, img in photos.items():
        rec = fr.restore_photo(img, name).record
        t = rec['timing_s']; total = sum(t.values())
        out[name] = dict(size=rec['size'], faces=len(rec['faces']), total_s=round(total, 3),
                         seconds={k: round(v, 4) for k, v in t.items()},
                         share={k: round(v / total, 3) for k, v in t.items()})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='official', help='CodeFormer preset (random weights)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=2, help='torch CPU threads (the machine may be shared)')
    ap.add_argument('--batch', type=int, default=8, help='the larger batch size compared with batch 1')
    ap.add_argument('--n1', type=int, default=2, help='images timed at batch 1')
    ap.add_argument('--bf16', action='store_true')
    ap.add_argument('--skip-photos', action='store_true')
    ap.add_argument('--json', help='also write the results here')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from idcodeformer.core import read_image
    from idcodeformer.models.codeformer import CodeFormer
    torch.manual_seed(0)
    model = CodeFormer.from_preset(a.preset).eval().to(a.device)
    res = dict(preset=a.preset, img_size=model.config.img_size, device=a.device, threads=a.threads, bf16=a.bf16,
               torch=torch.__version__)
    res['aligned_images_per_s'] = {'batch_1': round(aligned_throughput(model, 1, a.n1, a.bf16), 3),
                                   f'batch_{a.batch}': round(aligned_throughput(model, a.batch, a.batch, a.bf16), 3)}
    print(json.dumps(res, indent=1))
    if not a.skip_photos:
        import skimage.data, insightface
        site = Path(insightface.__file__).parent / 'data' / 'images'
        photos = {'astronaut (512×512)': skimage.data.astronaut(), 't1.jpg (1280×886)': read_image(site / 't1.jpg')}
        res['in_the_wild'] = photo_phases(model, photos, a.bf16)
        print(json.dumps(res['in_the_wild'], indent=1))
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
