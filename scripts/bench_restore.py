"""Benchmark of `idcodeformer.restore` (not a test).

1. Aligned restoration throughput (images/s) at batch 1 vs batch B with a randomly initialised model of the
   given architecture (default: official, 512 px).
2. In-the-wild photographs (real photographs shipped with scikit-image and insightface): share of time in
   detection, alignment, the network and paste-back, from the per-phase timings `FaceRestorer` records.
3. Paste-back of many faces into one large photograph: `paste_faces` (one copy of the photograph for all faces)
   against `paste_back` once per face (a copy each), with the ratio of their times (`--paste-only` runs just this).
4. With `--video N`: a video of N frames made from the astronaut photograph (shifted a little each frame), restored
   by `idcodeformer.video.restore_video` with the cascade detector: frames/s and faces/s of the whole video path
   (decoding, detection, batches across frames, paste-back, encoding).

    python scripts/bench_restore.py --threads 2                       # CPU, official 512
    python scripts/bench_restore.py --device cuda --batch 8 --bf16    # GPU
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_record import write_record


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


def paste_ratio(n_faces: int = 16, side: int = 3000, size: int = 512, repeats: int = 3) -> dict:
    "Seconds to paste `n_faces` aligned `size` faces into a `side`² photograph: one copy for all vs one copy per face."
    from idcodeformer.restore import paste_back, paste_faces
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    faces = rng.integers(0, 256, (n_faces, size, size, 3), dtype=np.uint8)
    mats = []
    for k in range(n_faces):                     # faces of ~300 px on a grid over the photograph
        s, (x, y) = size / 300, divmod(k, int(np.ceil(np.sqrt(n_faces))))
        mats.append(np.array([[s, 0, -s * (100 + 600 * x)], [0, s, -s * (100 + 600 * y)]]))
    def per_face():
        out = photo
        for f, M in zip(faces, mats): out = paste_back(out, f, M)
        return out
    def once(): return paste_faces(photo, faces, mats)
    assert np.array_equal(per_face(), once())
    def best(fn):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
        return round(min(times), 4)
    t = {'per_face_s': best(per_face), 'paste_faces_s': best(once)}
    return dict(n_faces=n_faces, photo=f'{side}x{side}', face_size=size, **t, ratio=round(t['paste_faces_s'] / t['per_face_s'], 3))


def video_throughput(model, n_frames: int, bf16: bool, chunk: int = 8) -> dict:
    "Frames and faces per second restoring an `n_frames` video of the astronaut photograph (cascade detector)."
    import tempfile, cv2, skimage.data
    from idcodeformer.faces import CascadeDetector
    from idcodeformer.restore import FaceRestorer
    from idcodeformer.video import restore_video
    img = skimage.data.astronaut()
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / 'astronaut.mp4'
        w = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*'mp4v'), 25.0, img.shape[1::-1])
        for k in range(n_frames): w.write(np.ascontiguousarray(np.roll(img, 2 * k, axis=1)[..., ::-1]))
        w.release()
        fr = FaceRestorer(model, w=0.5, detector=CascadeDetector(), batch_size=chunk, bf16=bf16)
        rec = restore_video(fr, src, Path(d) / 'out.mp4', chunk=chunk, progress=False)
    return dict(frames=rec['frames'], faces=rec['faces'], size=rec['size'], seconds=rec['seconds'], frames_per_s=rec['frames_per_s'],
                faces_per_s=round(rec['faces'] / rec['seconds'], 3), chunk=chunk)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--arch', default='official', help='CodeFormer architecture (random weights)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=2, help='torch CPU threads (the machine may be shared)')
    ap.add_argument('--batch', type=int, default=8, help='the larger batch size compared with batch 1')
    ap.add_argument('--n1', type=int, default=2, help='images timed at batch 1')
    ap.add_argument('--bf16', action='store_true')
    ap.add_argument('--skip-photos', action='store_true')
    ap.add_argument('--json', help='also write the results here')
    ap.add_argument('--paste-only', action='store_true', help='only the paste-back comparison (no network)')
    ap.add_argument('--video', type=int, default=0, metavar='N', help='also restore a video of N frames (frames/s, faces/s)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.paste_only:
        res = paste_ratio()
        print(json.dumps(res, indent=1))
        if a.json: write_record(Path(a.json), __file__, None, threads=a.threads, paste=res)
        return
    from idcodeformer.core import read_image
    from idcodeformer.models.codeformer import CodeFormer
    torch.manual_seed(0)
    model = CodeFormer.from_arch(a.arch).eval().to(a.device)
    res = dict(arch=a.arch, img_size=model.config.img_size, device=a.device, threads=a.threads, bf16=a.bf16)
    res['aligned_images_per_s'] = {'batch_1': round(aligned_throughput(model, 1, a.n1, a.bf16), 3),
                                   f'batch_{a.batch}': round(aligned_throughput(model, a.batch, a.batch, a.bf16), 3)}
    print(json.dumps(res, indent=1))
    if not a.skip_photos:
        import skimage.data, insightface
        site = Path(insightface.__file__).parent / 'data' / 'images'
        photos = {'astronaut (512×512)': skimage.data.astronaut(), 't1.jpg (1280×886)': read_image(site / 't1.jpg')}
        res['in_the_wild'] = photo_phases(model, photos, a.bf16)
        print(json.dumps(res['in_the_wild'], indent=1))
    if a.video:
        res['video'] = video_throughput(model, a.video, a.bf16)
        print(json.dumps(res['video'], indent=1))
    if a.json: write_record(Path(a.json), __file__, None, **res)


if __name__ == '__main__':
    main()
