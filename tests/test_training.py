"""Training runs that need separate processes: exact resume after SIGKILL, and 2-process (gloo) data parallelism.

Each test trains the `smoke` training scale (32 px, tiny networks) on the CPU in temporary folders.
"""
import csv, json, math, os, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from idcodeformer.training import TrainConfig, cli_main, load_training_state, train

PY = sys.executable
TORCHRUN = str(Path(sys.executable).with_name('torchrun'))
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONHASHSEED': '0'}


@pytest.fixture(scope='module')
def stages(tmp_path_factory):
    "Recognizer, stage I and stage II smoke models, trained in-process: the inputs of the subprocess runs."
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp('prep')
    def smoke(stage, **kw): return TrainConfig.from_scale('smoke', stage, out_dir=str(out), **kw)
    rec = train(smoke('recognizer'))
    s1 = train(smoke('I'))
    s2 = train(smoke('II', vqgan_ckpt=s1['model']))
    return {'rec': rec['model'], 'I': s1['model'], 'II': s2['model']}


def _cmd(out_dir, run_name, *kv):
    return [PY, '-m', 'idcodeformer.training', 'scale=smoke', f'out_dir={out_dir}', f'run_name={run_name}', *kv]


def _losses(folder) -> list[dict]:
    with open(Path(folder) / 'losses.csv', newline='') as f:
        return [{k: v for k, v in r.items() if k != 'it_per_s'} for r in csv.DictReader(f)]


def _tensors(obj, prefix=''):
    "Flatten nested dicts/lists of a checkpoint into {path: tensor} (numbers kept as tensors too)."
    if isinstance(obj, torch.Tensor): return {prefix: obj}
    if isinstance(obj, (int, float)) and not isinstance(obj, bool): return {prefix: torch.tensor(obj)}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    return {p: t for k, v in items for p, t in _tensors(v, f'{prefix}.{k}').items()}


def test_resume_after_sigkill_is_bit_identical(stages, tmp_path):
    """Stage III with the identity loss, killed with SIGKILL after a checkpoint and resumed (with 2 data workers),
    ends with exactly the tensors of an uninterrupted run (weights, EMA, D, optimiser and scheduler states)."""
    iters = 40
    args = ['stage=III', f'vqgan_ckpt={stages["I"]}', f'init={stages["II"]}', 'lambda_ids=1.0', f'id_net={stages["rec"]}',
            f'iters={iters}', 'ckpt_every=5', 'log_every=1', 'val_every=20']
    ref = subprocess.run(_cmd(tmp_path, 'ref', *args), env=ENV, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr[-3000:]

    run = tmp_path / 'killed'
    proc = subprocess.Popen(_cmd(tmp_path, 'killed', *args, 'num_workers=2'), env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt, deadline = run / 'checkpoints' / 'last.pt', time.time() + 240
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline: time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL); proc.wait()
    assert ckpt.exists(), 'no checkpoint appeared before the kill'
    at_kill = load_training_state(ckpt)['iter']
    assert 0 < at_kill < iters and not (run / 'done.json').exists(), f'the run was not interrupted (checkpoint at {at_kill})'

    res = subprocess.run(_cmd(tmp_path, 'killed', *args, 'num_workers=2'), env=ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    a = _tensors(load_training_state(tmp_path / 'ref' / 'checkpoints' / 'last.pt'))
    b = _tensors(load_training_state(run / 'checkpoints' / 'last.pt'))
    skip = {'.seconds', '.config.num_workers'}   # wall-clock time; the one setting that differs on purpose
    assert set(a) == set(b)
    assert any(k.startswith('.params_d.') for k in a) and any(k.startswith('.optimizers.g.state') for k in a)
    different = [k for k in a if k not in skip and not torch.equal(a[k], b[k])]
    assert not different, f'{len(different)} tensors differ after resume, e.g. {different[:5]}'
    assert _losses(tmp_path / 'ref') == _losses(run)          # the logged trajectory too, row for row


def test_two_processes_match_one_process(stages, tmp_path):
    "torchrun with 2 gloo processes (global batch 4 = 2 × 2) follows the 1-process loss trajectory of batch 4."
    args = ['stage=II', f'vqgan_ckpt={stages["I"]}', 'lambda_ids=1.0', f'id_net={stages["rec"]}',
            'iters=6', 'batch_size=4', 'log_every=1', 'ckpt_every=3']
    one = subprocess.run(_cmd(tmp_path, 'one', *args), env=ENV, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([TORCHRUN, '--standalone', '--nproc_per_node', '2', '-m', 'idcodeformer.training', 'scale=smoke',
                          f'out_dir={tmp_path}', 'run_name=two', *args], env=ENV, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    l1, l2 = _losses(tmp_path / 'one'), _losses(tmp_path / 'two')
    assert [r['iter'] for r in l1] == [r['iter'] for r in l2] == [str(i) for i in range(1, 7)]
    for r1, r2 in zip(l1, l2):
        for k in ('loss', 'ce', 'feat', 'ids'):
            assert float(r2[k]) == pytest.approx(float(r1[k]), rel=1e-4, abs=1e-6), (r1['iter'], k, r1[k], r2[k])
    w1 = load_training_state(tmp_path / 'one' / 'model.pt')['params']
    w2 = load_training_state(tmp_path / 'two' / 'model.pt')['params']
    # Adam turns the rounding noise of near-zero gradients (conv biases right before a GroupNorm) into ±lr steps,
    # so single entries can differ by a few lr; the weights as a whole must agree closely.
    diff = sum((w1[k] - w2[k]).double().pow(2).sum() for k in w1).sqrt()
    norm = sum(w1[k].double().pow(2).sum() for k in w1).sqrt()
    assert diff / norm < 1e-3, f'weights differ: relative L2 distance {diff / norm:.2e}'


def test_cli_rejects_unknown_and_mistyped_parameters(capsys):
    assert cli_main(['scale=smoke', 'stage=II', 'lamda_ids=1.0']) == 2
    assert "did you mean 'lambda_ids'" in capsys.readouterr().err
    assert cli_main(['scale=smoke', 'stage=I', 'iters=many']) == 2
    assert "iters: expected int, got 'many'" in capsys.readouterr().err
    assert cli_main(['scale=smoke', 'stage=I', '--print-config']) == 0
    assert '"img_size": 32' in capsys.readouterr().out


def _mismatch(ref: dict, out: Path) -> str | None:
    "The first logged value under `out` that differs from the reference runs `ref`, or None."
    for run, rows in ref.items():
        now = _losses(out / run)
        if len(now) != len(rows): return f'{run}: {len(now)} rows now, {len(rows)} before'
        for i, (old, new) in enumerate(zip(rows, now)):
            if set(new) != set(old): return f'{run} row {i}: columns {sorted(set(new) ^ set(old))} differ'
            for k, v in old.items():
                got = float(new[k]) if new[k] != '' else None
                if (got is None) != (v is None) or (v is not None and not math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-6)):
                    return f'{run} row {i} {k}: {got} now, {v} before'
    return None


def test_smoke_losses_match_those_before_the_redesign(tmp_path):
    """The whole smoke pipeline with the identity loss (recognizer, stages I-III) logs the losses that the code before the
    codebase redesign logged (tests/data/smoke_losses_before_redesign.json, which says how it was made) on one of the two
    CPUs it was recorded on: the identity-loss stages' floating-point results depend on the CPU's kernels."""
    data = json.loads((Path(__file__).parent / 'data' / 'smoke_losses_before_redesign.json').read_text())
    refs = {'first CPU': data['runs'], 'second CPU': data['runs_second_cpu']}
    r = subprocess.run([PY, '-m', 'idcodeformer.training', 'scale=smoke', 'stage=all', 'lambda_ids=1', f'out_dir={tmp_path}'],
                       env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir() if (p / 'losses.csv').is_file()) == sorted(data['runs'])
    mismatches = {cpu: _mismatch(ref, tmp_path) for cpu, ref in refs.items()}
    assert None in mismatches.values(), f'the losses match neither reference: {mismatches}'
