"""The study chain end to end on the smoke preset, as `make study` runs it: every step a papermill execution
into a temporary runs folder, records copied, tables/figures/macros rebuilt from them; then a second call
that must resume (skip every step)."""
import json, os, subprocess, sys, time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDY = [sys.executable, str(ROOT/'scripts'/'study.py'), '--preset', 'smoke']


def _run(args, timeout):
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '2'}
    env.pop('IN_TEST', None)
    return subprocess.run(STUDY + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_list_names_every_step(tmp_path):
    r = _run(['--list', '--runs', str(tmp_path/'runs'), '--results', str(tmp_path/'results')], 120)
    names = ['synth-test', 'rec-loss', 'rec-judge', 'stage1', 'base-II', 'base-III', 'id-II', 'id-III',
             'eval-lq', 'eval-base', 'eval-id', 'ablation', 'figures']
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
    assert '[13/13] figures: done in' in r.stdout, r.stdout
    # every step kept its executed notebook and its done marker
    for step in ('synth-test', 'rec-loss', 'stage1', 'id-III', 'eval-id', 'ablation', 'figures'):
        assert (runs/step/'step_done.json').is_file(), step
        assert list((runs/step).glob('*.ipynb')), step
    assert (runs/'ablation'/'III-l1-transformer'/'train.ipynb').is_file()     # one executed notebook per ablation run
    # records: small files only, no checkpoints or restored images
    rec = res/'runs'/'smoke'
    assert (rec/'eval-id'/'eval.json').is_file() and (rec/'id-III'/'config.json').is_file()
    assert not [p for p in rec.rglob('*') if p.suffix in ('.pt', '.pth') or 'restored' in p.parts or 'checkpoints' in p.parts]
    # tables, figures and macros rebuilt from the records
    for stem in ('main_table', 'main_delta', 'recognizers', 'training_runs', 'mark_retention', 'ablation_lambda', 'ablation_grid'):
        assert (res/'tables'/f'{stem}.csv').is_file() and (res/'tables'/f'{stem}.tex').is_file(), stem
    for stem in ('tradeoff_w', 'drift_prevalence', 'lambda_sweep', 'reach_stage', 'qualitative'):
        assert (res/'figures'/f'{stem}.pdf').is_file() and (res/'figures'/f'{stem}.png').is_file(), stem
    main = pd.read_csv(res/'tables'/'main_table.csv')
    assert set(main.Model) == {'Input (LQ)', 'CodeFormer', 'ID-CodeFormer'} and len(main) == 2 * (1 + 2 * 2)
    nums = json.loads((res/'metrics'/'study.json').read_text())
    assert nums['preset'] == 'smoke' and 'ids_judge_severe_w1_id' in nums and 'verif_judge_hq' in nums
    assert nums['train_stage1_iters'] == '2' and 'train_id_III_code_acc' in nums and float(nums['study_minutes']) > 0
    assert '\\newcommand{\\NumIdsJudgeSevereWOneId}' in (res/'tables'/'numbers.tex').read_text()
    # a second run resumes: every step is skipped
    t1 = time.time()
    r2 = _run(['--runs', str(runs), '--results', str(res)], 300)
    assert r2.returncode == 0 and r2.stdout.count('already done') == 12, r2.stdout[-2000:]   # figures are always rebuilt
    assert time.time() - t1 < first / 2
