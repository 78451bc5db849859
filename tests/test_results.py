"""The committed results are what the committed records give: `make figures` (nbs/figures.ipynb on results/runs/synth)
into a fresh folder must reproduce every table, figure and number under results/ byte for byte."""
import os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_results_rebuild_from_records_byte_for_byte(tmp_path):
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'}
    env.pop('IN_TEST', None)
    out = tmp_path / 'results'
    r = subprocess.run([sys.executable, '-m', 'papermill', '--cwd', 'nbs', '--no-progress-bar', 'nbs/figures.ipynb',
                        str(tmp_path / 'figures.ipynb'), '-p', 'records', 'results/runs/synth', '-p', 'out_dir', str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    made = sorted(p.relative_to(out) for p in out.rglob('*') if p.is_file())
    assert len(made) > 30, made
    differ = [str(p) for p in made if (out / p).read_bytes() != (ROOT / 'results' / p).read_bytes()]
    assert not differ, f'rebuilt from the committed records, these differ from results/ (run `make figures`): {differ}'
