"Experiment notebooks: every parameter is documented by papermill (`papermill --help-notebook`) and is a plain literal."
import re
from pathlib import Path

import nbformat
import pytest
from papermill.inspection import inspect_notebook

NBS = Path(__file__).resolve().parents[1] / 'nbs'
EXPERIMENTS = ['train', 'evaluate', 'ablation', 'figures', 'explore']


def parameter_lines(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])]
    assert len(cells) == 1, f'{path.name}: expected one cell tagged "parameters", found {len(cells)}'
    return [l for l in cells[0].source.splitlines() if re.match(r'^\w+\s*:', l)]


@pytest.mark.parametrize('name', EXPERIMENTS)
def test_every_parameter_is_inferred(name):
    path = NBS / f'{name}.ipynb'
    declared = [l.split(':')[0].strip() for l in parameter_lines(path)]
    inferred = inspect_notebook(str(path))
    missing = [p for p in declared if p not in inferred]
    # papermill silently drops a line it cannot parse (e.g. '=' or quotes in the comment)
    assert not missing, f'{path.name}: papermill cannot parse the parameter lines of {missing}'
    undocumented = [p for p in declared if not inferred[p]['help']]
    assert not undocumented, f'{path.name}: parameters without a comment: {undocumented}'


def test_figures_rebuild_the_recorded_results(tmp_path, monkeypatch):
    "The committed tables, number macros and headline metrics are exactly what figures.ipynb makes from the committed records."
    import papermill as pm
    monkeypatch.delenv('IN_TEST', raising=False)        # under nbdev_test the notebook would read its demo records
    root = NBS.parent
    records = root / 'results' / 'runs' / 'synth'
    if not records.is_dir(): pytest.skip('no recorded synth study in results/runs/synth')
    pm.execute_notebook(str(NBS / 'figures.ipynb'), str(tmp_path / 'figures.ipynb'), cwd=str(root), progress_bar=False,
                        parameters={'records': str(records), 'out_dir': str(tmp_path / 'out'), 'size': 'synth'})
    committed = sorted((root / 'results').glob('tables/*.csv')) + sorted((root / 'results').glob('tables/*.tex')) \
        + [root / 'results' / 'metrics' / 'study.json']
    assert len(committed) > 10
    differ = [str(p.relative_to(root)) for p in committed
              if p.read_bytes() != (tmp_path / 'out' / p.relative_to(root / 'results')).read_bytes()]
    assert not differ, f'rebuilt from results/runs/synth, these differ from the committed files: {differ}'
