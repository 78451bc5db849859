"""The prepared GPU benchmark runs end to end in its tiny CPU configuration (so it is ready, not a stub)."""
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_gpu_tiny_on_cpu(tmp_path):
    out = tmp_path / 'gpu.json'
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'bench_gpu.py'), '--device', 'cpu', '--tiny', '--out', str(out),
                        '--study', 'smoke', '--study-until', 'stage1', '--study-jobs', '2', '--study-dir', str(tmp_path / 'study')],
                       capture_output=True, text=True, timeout=600,
                       env={'OMP_NUM_THREADS': '1', 'PATH': f'{Path(sys.executable).parent}:/usr/bin:/bin'})
    assert r.returncode == 0, r.stderr[-2000:]
    rec = json.loads(out.read_text())
    fwd = [row for row in rec['rows'] if row['part'] == 'forward']
    assert {(row['dtype'], row['channels_last'], row['batch']) for row in fwd} == {(d, c, b) for d in ('fp32', 'bf16') for c in (False, True) for b in (1, 2)}
    assert all(row['faces_per_s'] > 0 for row in fwd)
    step, = [row for row in rec['rows'] if row['part'] == 'train_step_III_ids']
    assert step['step_s'] > 0 and step['batch'] == 2
    assert rec['torch'] and 'bench_gpu.py' in rec['command']
    study, = [row for row in rec['rows'] if row['part'] == 'study']
    assert study['size'] == 'smoke' and study['until'] == 'stage1' and study['minutes'] > 0
    assert (tmp_path / 'study' / 'runs' / 'stage1' / 'model.pt').is_file()          # the study's steps really ran
    assert 'study_minutes' not in study                                              # stopped before the figures: no numbers


def test_bench_gpu_without_cuda_says_so(tmp_path):
    import pytest, torch
    if torch.cuda.is_available(): pytest.skip('a CUDA device is visible')
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'bench_gpu.py'), '--device', 'cuda', '--out', str(tmp_path / 'x.json')],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and 'no CUDA device is visible' in r.stderr


def test_bench_restore_video(tmp_path):
    "The video part of the restore benchmark restores every frame of its synthetic video and reports frames/s and faces/s."
    out = tmp_path / 'restore.json'
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'bench_restore.py'), '--arch', 'synth', '--threads', '1', '--n1', '1',
                        '--batch', '2', '--skip-photos', '--video', '4', '--json', str(out)],
                       capture_output=True, text=True, timeout=300, env={'OMP_NUM_THREADS': '1', 'PATH': '/usr/bin:/bin'})
    assert r.returncode == 0, r.stderr[-2000:]
    v = json.loads(out.read_text())['video']
    assert v['frames'] == 4 and v['faces'] >= 4 and v['frames_per_s'] > 0 and v['faces_per_s'] >= v['frames_per_s']
