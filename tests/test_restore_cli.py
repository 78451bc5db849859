"""End-to-end checks of the `idcodeformer restore` console script, run in a subprocess as a user would."""
import json, subprocess, sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
import skimage.data
import torch

from idcodeformer.core import read_image, write_image
from idcodeformer.models.codeformer import CodeFormer

SCRIPT = Path(sys.executable).parent / 'idcodeformer'


def run(*args, timeout=300, **env):
    "Run the console script offline; returns the completed process (stdout and stderr captured as text)."
    assert SCRIPT.exists(), f'console script not installed: {SCRIPT}'
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={'OMP_NUM_THREADS': '2', 'IDCODEFORMER_OFFLINE': '1', 'PATH': str(SCRIPT.parent),
                               'HOME': str(Path.home()), **env})


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    "A smoke CodeFormer saved like training's model.pt, a photograph with a face, and an image without one."
    d = tmp_path_factory.mktemp('restore')
    torch.manual_seed(0)
    model = CodeFormer.from_arch('smoke')
    sd = model.state_dict()
    torch.save({'params': sd, 'params_ema': sd, 'config': dict(stage='III', arch='smoke', img_size=32)}, d / 'model.pt')
    head = np.ascontiguousarray(skimage.data.astronaut()[:256, 100:356])
    write_image(d / 'in' / 'astronaut.png', head)
    write_image(d / 'in' / 'wall.png', np.full((100, 100, 3), 80, np.uint8))
    (d / 'in' / 'broken.jpg').write_bytes(b'\xff\xd8\xffnot really a jpeg')
    return d


def test_help_lists_exit_codes():
    r = run('restore', '--help')
    assert r.returncode == 0
    assert 'exit codes: 0 all restored, 1 some inputs failed' in r.stdout


def test_photographs_partial_failure(workdir):
    out = workdir / 'out'
    r = run('restore', workdir / 'in', '--weights', workdir / 'model.pt', '-w', '0.5', '--out', out, '--detector', 'cascade')
    assert r.returncode == 1, r.stderr
    assert 'detector: lbp-cascade' in r.stdout                       # the detector used is printed
    assert 'restored 1 of 3 input(s)' in r.stdout
    summary = json.loads((out / 'summary.json').read_text())
    failed = {Path(p).name: why for p, why in summary['failed'].items()}
    assert sorted(failed) == ['broken.jpg', 'wall.png']
    assert 'no face found' in failed['wall.png'] and 'not a readable image' in failed['broken.jpg']
    rec = json.loads((out / 'json' / 'astronaut.json').read_text())
    assert rec['detector'].startswith('lbp-cascade') and rec['w'] == 0.5
    assert rec['model']['format'] == 'training checkpoint (params_ema)' and len(rec['model']['sha256']) == 64
    assert set(rec['timing_s']) >= {'detect', 'align', 'network', 'paste'}
    assert rec['faces'] and len(rec['faces'][0]['landmarks']) == 5
    composed = read_image(out / 'restored_imgs' / 'astronaut.png')
    assert composed.shape == (256, 256, 3)
    assert (composed != read_image(workdir / 'in' / 'astronaut.png')).any()   # something was pasted back
    assert read_image(rec['faces'][0]['restored_face']).shape == (32, 32, 3)
    assert 'identity check: dlib ResNet face descriptor v1' in r.stdout


def test_group_photo_default_detector_and_identity_check(workdir):
    "The default offline detector (MTCNN) finds the six people of insightface's t1.jpg; each face's identity is checked."
    photo = Path(__import__('insightface').__file__).parent / 'data' / 'images' / 't1.jpg'
    out = workdir / 'group'
    r = run('restore', photo, '--weights', workdir / 'model.pt', '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'detector: mtcnn' in r.stdout
    rec = json.loads((out / 'json' / 't1.json').read_text())
    assert len(rec['faces']) == 6 and all(f['landmarks_from'] == 'MTCNN landmarks' for f in rec['faces'])
    checks = [f['identity'] for f in rec['faces']]
    assert all(c['judge'] == 'dlib ResNet face descriptor v1' and c['distance'] > 0.6 and not c['same_person'] for c in checks)
    ident = json.loads((out / 'summary.json').read_text())['identity']
    assert (ident['faces_checked'], ident['not_same_person']) == (6, 6)
    assert 'identity check: 6 of 6 face(s) no longer the same person' in r.stdout   # random weights: every face flagged
    assert 'identity' in rec['timing_s']


def test_bad_photos_with_the_default_detector(workdir):
    "A masked face, a tiny face and a corrupt file are each named with the reason; the gray and RGBA photos are restored."
    images = Path(__import__('insightface').__file__).parent / 'data' / 'images'
    inp = workdir / 'bad'
    astro = skimage.data.astronaut()
    write_image(inp / 'masked.jpg', read_image(images / 'mask_white.jpg'))
    write_image(inp / 'tiny.png', cv2.resize(astro, (96, 96), interpolation=cv2.INTER_AREA))     # her face: about 17 px
    write_image(inp / 'gray.png', np.repeat(cv2.cvtColor(astro, cv2.COLOR_RGB2GRAY)[..., None], 3, 2))
    Image.fromarray(np.dstack([astro, np.full(astro.shape[:2], 255, np.uint8)])).save(inp / 'rgba.png')
    (inp / 'corrupt.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 40)
    r = run('restore', inp, '--weights', workdir / 'model.pt', '--out', workdir / 'bad_out', '--min-face', '24', '--quiet')
    assert r.returncode == 1, r.stderr
    failed = {Path(p).name: why for p, why in json.loads((workdir / 'bad_out' / 'summary.json').read_text())['failed'].items()}
    assert sorted(failed) == ['corrupt.png', 'masked.jpg', 'tiny.png'], failed
    assert 'no face found (detector: mtcnn' in failed['masked.jpg']
    assert 'smaller than 24 px' in failed['tiny.png'] and 'not a readable image' in failed['corrupt.png']
    assert all(name in why for name, why in failed.items())
    assert json.loads((workdir / 'bad_out' / 'json' / 'gray.json').read_text())['gray'] is True
    assert read_image(workdir / 'bad_out' / 'restored_imgs' / 'rgba.png').shape == astro.shape


def test_aligned_and_upscale(workdir):
    out = workdir / 'aligned'
    r = run('restore', workdir / 'in' / 'astronaut.png', '--weights', workdir / 'model.pt', '--out', out, '--aligned')
    assert r.returncode == 0, r.stderr
    rec = json.loads((out / 'json' / 'astronaut.json').read_text())
    assert rec['notes'] == ['aligned input 256×256 resized to the model size 32×32']
    assert read_image(out / 'restored_faces' / 'astronaut.png').shape == (32, 32, 3)


def test_setup_and_usage_errors(workdir):
    r = run('restore', workdir / 'in', '--weights', 'codeformer', '--out', workdir / 'x',
            IDCODEFORMER_HOME=str(workdir / 'empty_cache'))                                   # offline, weights absent
    assert r.returncode == 3 and 'codeformer.pth' in r.stderr
    r = run('restore', workdir / 'nothing' / '*.png', '--weights', workdir / 'model.pt', '--out', workdir / 'x')
    assert r.returncode == 2 and 'no file matches' in r.stderr


def _write_video(path, frames, fps=10.0):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, frames[0].shape[1::-1])
    for f in frames: w.write(np.ascontiguousarray(f[..., ::-1]))
    w.release()


def test_videos(workdir):
    "A clip with a face, a clip without one, and a corrupt file: restored, copied through, named; frame rate kept."
    inp = workdir / 'videos'; inp.mkdir()
    head = np.ascontiguousarray(skimage.data.astronaut()[20:260, 100:340])
    _write_video(inp / 'face.mp4', [np.roll(head, 3 * k, axis=1) for k in range(6)], fps=12.0)
    _write_video(inp / 'wall.avi', [np.full((64, 96, 3), 90, np.uint8)] * 4)
    (inp / 'broken.mp4').write_bytes(b'\x00\x00\x00\x18ftypmp42' + b'junk' * 50)
    r = run('restore', inp, '--weights', workdir / 'model.pt', '--out', workdir / 'vout', '--quiet')
    assert r.returncode == 1, r.stderr
    out = workdir / 'vout'
    rec = json.loads((out / 'json' / 'face.json').read_text())
    assert (rec['frames'], rec['fps'], rec['faces'], len(rec['tracks'])) == (6, 12.0, 6, 1)
    assert rec['tracks'][0]['input_step_distance'] is not None and rec['frames_per_s'] > 0
    assert rec['identity']['faces_checked'] == 6 and rec['model']['format'] == 'training checkpoint (params_ema)'
    cap = cv2.VideoCapture(str(out / 'restored_videos' / 'face.mp4'))
    assert (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), cap.get(cv2.CAP_PROP_FPS)) == (6, 12.0)
    cap.release()
    wall = json.loads((out / 'json' / 'wall.json').read_text())
    assert wall['faces'] == 0 and wall['notes'] == ['no face in any frame: the video was copied through']
    failed = json.loads((out / 'summary.json').read_text())['failed']
    assert list(map(lambda p: Path(p).name, failed)) == ['broken.mp4'] and 'broken.mp4' in next(iter(failed.values()))
    assert 'face.mp4: 6 frames at 12 fps, 6 faces in 1 track(s)' in r.stdout
