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
