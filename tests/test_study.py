"""The study chain end to end at the smoke study size, as `make study` runs it: every step a papermill execution
into a temporary runs folder, records copied, tables/figures/macros rebuilt from them; then a second call
that must resume (skip every step). Before it, `run_steps` running tiny notebooks two at a time."""
import json, os, subprocess, sys, time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDY = [sys.executable, str(ROOT/'scripts'/'run_study.py'), '--size', 'smoke']


def _run(args, timeout):
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '2'}
    env.pop('IN_TEST', None)
    return subprocess.run(STUDY + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _sleep_notebook(path):
    "A notebook that sleeps, records when it ran and in which environment (times.json in its folder), and can fail."
    nb = nbformat.v4.new_notebook()
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    p = nbformat.v4.new_code_cell('seconds: float = 2.0\nfail: bool = False\ntorch_threads: bool = False')
    p.metadata['tags'] = ['parameters']
    nb.cells = [p, nbformat.v4.new_code_cell(
        "import json, os, time\nt0 = time.time(); time.sleep(seconds)\n"
        "rec = {'t0': t0, 't1': time.time(), **{k: os.environ.get(k) for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'IN_TEST')}}\n"
        "if torch_threads:\n    import torch; rec['torch'] = torch.get_num_threads()\n"
        "json.dump(rec, open('times.json', 'w'))\n"
        "if fail: raise RuntimeError('failing on purpose')")]
    nbformat.write(nb, path)


def test_run_steps_two_at_a_time(tmp_path, monkeypatch):
    from idcodeformer.plan import Step
    from idcodeformer.study import DONE, StepsFailed, run_steps, step_threads
    _sleep_notebook(tmp_path/'sleep.ipynb')
    monkeypatch.setenv('IN_TEST', '1')                                   # kept from the kernels
    runs, logs = tmp_path/'runs', []
    go = lambda plan, jobs=2: run_steps(plan, runs, root=tmp_path, notebooks={'sleep': 'sleep.ipynb'}, jobs=jobs, log=logs.append)
    times = lambda n: json.loads((runs/n/'times.json').read_text())
    done = lambda n: json.loads((runs/n/DONE).read_text())
    S = lambda name, needs=(), **p: Step(name, 'sleep', {'seconds': 2.0, **p}, tuple(needs))
    # 1. f fails while a runs: a finishes, nothing new starts (d needs f; b and c wait for the next call)
    plan = [S('a', seconds=4.0, torch_threads=True), S('f', seconds=0.5, fail=True), S('d', ['f']), S('b'), S('c', ['a'])]
    with pytest.raises(StepsFailed) as e:
        go(plan)
    msg = str(e.value)
    assert f"f (executed notebook: {runs/'f'/'sleep.ipynb'}): RuntimeError: failing on purpose" in msg, msg
    assert e.value.not_run == ['d', 'b', 'c'] and 'not run: d, b, c' in msg, msg
    assert (runs/'f'/'sleep.ipynb').is_file() and not (runs/'f'/DONE).exists()
    assert not any((runs/n).exists() for n in 'dbc')
    assert times('f')['t0'] < times('a')['t1']                          # they ran side by side
    n = str(step_threads(2))
    assert times('a') | {'t0': 0, 't1': 0} == {'t0': 0, 't1': 0, 'OMP_NUM_THREADS': n, 'MKL_NUM_THREADS': n, 'IN_TEST': None,
                                                 'torch': int(n)}     # the kernel's environment, and torch follows it
    m = done('a')
    assert (m['jobs'], m['threads'], m['concurrent_with']) == (2, int(n), ['f']) and m['started'] <= m['finished'], m
    # 2. f fixed: a is skipped; f and b run side by side, d after f, c after a
    logs.clear()
    plan[1] = S('f', seconds=2.0)
    go(plan)
    assert logs[0].startswith('[1/5] a: already done'), logs
    assert [l for l in logs if l.startswith('[')][-1].startswith('[5/5] '), logs
    assert times('f')['t0'] < times('b')['t1'] and times('b')['t0'] < times('f')['t1'], (times('f'), times('b'))
    assert times('d')['t0'] >= times('f')['t1'] and times('c')['t0'] >= times('a')['t1']
    assert 'b' in done('f')['concurrent_with'] and 'f' in done('b')['concurrent_with']
    assert all(done(x)['jobs'] == 2 for x in 'afdbc')
    # 3. everything done: a third call (one job) skips every step, in the plan's order
    logs.clear()
    t = time.time(); go(plan, jobs=1)
    assert [l.split(' (')[0] for l in logs] == [f'[{i}/5] {x}: already done' for i, x in enumerate('afdbc', 1)], logs
    assert time.time() - t < 5


def test_wide_step_waits_and_narrow_ones_backfill(tmp_path, monkeypatch):
    "A step that needs both slots waits for them; meanwhile a ready one-slot step runs beside the one already running."
    from idcodeformer.plan import Step
    from idcodeformer.study import run_steps
    _sleep_notebook(tmp_path/'sleep.ipynb')
    runs = tmp_path/'runs'
    times = lambda n: json.loads((runs/n/'times.json').read_text())
    S = lambda name, kind='sleep', needs=(), seconds=1.0: Step(name, kind, {'seconds': seconds}, tuple(needs))
    # priorities (longest chain first): x (x → y → v) before w (w → z) before n; w needs 2 slots, 1 is free while x runs
    plan = [S('x', seconds=3.0), S('y', needs=['x']), S('v', needs=['y']), S('w', 'wide'), S('z', needs=['w']), S('n')]
    run_steps(plan, runs, root=tmp_path, notebooks={'sleep': 'sleep.ipynb', 'wide': 'sleep.ipynb'}, jobs=2, wide=('wide',), log=lambda m: None)
    assert times('n')['t0'] < times('x')['t1'], (times('n'), times('x'))          # n backfilled the free slot
    assert times('w')['t0'] >= max(times('x')['t1'], times('n')['t1'])            # w ran alone, on both slots
    assert json.loads((runs/'w'/'step_done.json').read_text())['concurrent_with'] == []


def test_list_names_every_step(tmp_path):
    r = _run(['--list', '--runs', str(tmp_path/'runs'), '--results', str(tmp_path/'results')], 120)
    names = ['synth-test', 'rec-loss', 'rec-judge', 'stage1', 'base-II', 'base-III', 'id-II', 'id-III',
             'eval-vqgan', 'eval-lq', 'eval-base', 'eval-id', 'prev-glasses0.02', 'prev-glasses0.3', 'eval-prev-glasses0.02',
             'eval-prev-glasses0.3', 'ablation', 'figures']
    for n in names: assert f' {n} ' in r.stdout, r.stdout
    assert r.stdout.count(' todo') == len(names), r.stdout
    assert not (tmp_path/'runs').exists()                      # listing runs nothing


def test_until_rejects_unknown_step(tmp_path):
    r = _run(['--until', 'stage9', '--runs', str(tmp_path/'runs')], 120)
    assert r.returncode == 2 and "expected one of synth-test" in r.stderr, r.stderr


def test_smoke_study_end_to_end(tmp_path):
    runs, res = tmp_path/'runs', tmp_path/'results'
    t0 = time.time()
    r = _run(['--runs', str(runs), '--results', str(res)], 900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    first = time.time() - t0
    assert '[18/18] figures: done in' in r.stdout, r.stdout
    assert '18 steps, 2 at a time' in r.stdout, r.stdout[:500]
    m = json.loads((runs/'stage1'/'step_done.json').read_text())
    assert m['jobs'] == 2 and m['concurrent_with'], m                            # steps ran side by side
    m = json.loads((runs/'ablation'/'III-l0'/'step_done.json').read_text())
    assert m['jobs'] == 2 and m['threads'] >= 1, m                               # the ablation got both slots
    # every step kept its executed notebook and its done marker
    for step in ('synth-test', 'rec-loss', 'stage1', 'id-III', 'eval-id', 'ablation', 'figures'):
        assert (runs/step/'step_done.json').is_file(), step
        assert list((runs/step).glob('*.ipynb')), step
    assert (runs/'ablation'/'III-l1-transformer'/'train.ipynb').is_file()     # one executed notebook per ablation run
    # records: small files only, no checkpoints or restored images
    rec = res/'runs'/'smoke'
    assert (rec/'eval-id'/'eval.json').is_file() and (rec/'id-III'/'config.json').is_file()
    # the prevalence experiment: two fine-tunes of base-II that differ only in the mark's training rate, both evaluated
    cfgs = [json.loads((rec/f'prev-glasses{r}'/'config.json').read_text()) for r in ('0.02', '0.3')]
    assert [c['mark_rates'] for c in cfgs] == ['glasses=0.02', 'glasses=0.3'] and all(c['init'].endswith('base-II/model.pt') for c in cfgs)
    assert {k for k in cfgs[0] if cfgs[0][k] != cfgs[1][k]} == {'mark_rates', 'run_name'}
    assert json.loads((rec/'eval-prev-glasses0.3'/'eval.json').read_text())['extra'] == {'prevalence': {'mark': 'glasses', 'rate': 0.3}}
    assert not [p for p in rec.rglob('*') if p.suffix in ('.pt', '.pth') or 'restored' in p.parts or 'checkpoints' in p.parts]
    # tables, figures and macros rebuilt from the records
    for stem in ('main_table', 'main_delta', 'recognizers', 'training_runs', 'mark_retention', 'ablation_lambda', 'ablation_grid'):
        assert (res/'tables'/f'{stem}.csv').is_file() and (res/'tables'/f'{stem}.tex').is_file(), stem
    for stem in ('tradeoff_w', 'drift_prevalence', 'lambda_sweep', 'reach_stage', 'qualitative'):
        assert (res/'figures'/f'{stem}.pdf').is_file() and (res/'figures'/f'{stem}.png').is_file(), stem
    main = pd.read_csv(res/'tables'/'main_table.csv')
    assert set(main.Model) == {'Stage-I VQGAN (HQ input)', 'Input (LQ)', 'CodeFormer', 'ID-CodeFormer'} and len(main) == 2 * (2 + 2 * 2)
    assert 'FD (synth-feat)' in main.columns and main['FD (synth-feat)'].ne('–').all()      # realism measured for every row
    nums = json.loads((res/'metrics'/'study.json').read_text())
    assert nums['study_size'] == 'smoke' and 'ids_judge_severe_w1_id' in nums and 'verif_judge_hq' in nums
    assert nums['train_stage1_iters'] == '2' and 'train_id_III_code_acc' in nums and float(nums['study_minutes']) > 0
    assert '\\newcommand{\\NumIdsJudgeSevereWOneId}' in (res/'tables'/'numbers.tex').read_text()
    for key in ('vqgan_recon_psnr', 'vqgan_recon_ids_judge', 'd_ids_judge_severe_bestw_base_vs_lq_lo', 'fd_severe_lq', 'fd_mild_w1_base'):
        assert key in nums, key                                                # the competent-restorer checks
    # a second run resumes: every step is skipped
    t1 = time.time()
    r2 = _run(['--runs', str(runs), '--results', str(res)], 300)
    assert r2.returncode == 0 and r2.stdout.count('already done') == 17, r2.stdout[-2000:]   # figures are always rebuilt
    assert time.time() - t1 < first / 2
