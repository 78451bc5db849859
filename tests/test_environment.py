"Checks that the environment descriptions agree with each other and with the running interpreter."
from importlib.metadata import version
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def lock_pins() -> dict[str, str]:
    lines = [l.strip() for l in (ROOT / 'requirements.lock').read_text().splitlines()]
    return dict(l.split('==') for l in lines if l and not l.startswith('#'))


def test_environment_yml_matches_lock():
    env = yaml.safe_load((ROOT / 'environment.yml').read_text())
    pip = next(d['pip'] for d in env['dependencies'] if isinstance(d, dict))
    assert dict(p.split('==') for p in pip) == lock_pins()
    assert 'python=3.11' in env['dependencies']


def test_lock_is_installed():
    """Every locked package is installed at its locked version (the venv was built from the lock)."""
    wrong = {name: (pin, version(name)) for name, pin in lock_pins().items() if version(name) != pin}
    assert not wrong, f'installed versions differ from requirements.lock: {wrong}'


def test_required_pins():
    pins = {k.lower(): v for k, v in lock_pins().items()}
    assert pins['torch'] == '2.14.1' and pins['torchvision'] == '0.29.1'
    assert pins['nbdev'] == '2.4.14' and pins['execnb'] == '0.1.18'
    major, minor = map(int, pins['fastcore'].split('.')[:2])
    assert (1, 12) <= (major, minor) < (1, 15)
    assert int(pins['ghapi'].split('.')[0]) < 2


def test_dependency_check_allows_only_the_documented_conflict():
    import importlib.util
    spec = importlib.util.spec_from_file_location('check_deps', ROOT / 'scripts' / 'check_deps.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    known = 'facenet-pytorch 2.6.0 has requirement torch<2.3.0,>=2.2.0, but you have torch 2.14.1.'
    other = 'lpips 0.1.4 has requirement torch>=0.4.0, which is not installed.'
    assert mod.problems(known + '\nNo broken requirements found.') == []
    assert mod.problems(known + '\n' + other) == [other]
    assert mod.problems('facenet-pytorch 2.6.0 has requirement scipy<1, but you have scipy 1.16.') != []
    assert mod.main() == 0                  # this environment: nothing but the documented lines
