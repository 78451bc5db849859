"""The explorer in a real browser: JupyterLab on localhost serves nbs/explore.ipynb (with its parameters pointed at
small checkpoints made here, injected as papermill does), headless Chromium opens it through Selenium with Debian's
chromedriver (nothing downloaded), runs it, moves the w slider with the keyboard, and the test checks that both
restorations and their judge-IDS captions change. The screenshot is saved to runs/tests/explorer_browser.png."""
import json, os, re, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import cv2
import nbformat
import numpy as np
import papermill, papermill.iorw, papermill.parameterize
import pytest
import skimage.data
import torch

from idcodeformer.core import write_image
from idcodeformer.models.codeformer import CodeFormer
from idcodeformer.restore import align_face, align_matrix
from idcodeformer.training import TrainConfig, make_recognizer

ROOT = Path(__file__).resolve().parents[1]
SHOT = ROOT / 'runs' / 'tests' / 'explorer_browser.png'
ASTRO_LM = np.array([[203.0, 100.5], [245.5, 103.8], [225.5, 125.5], [203.8, 141.3], [248.8, 141.3]])
CAPTION = re.compile(r'^(.+), w=(\d\.\d\d)\s+judge IDS (-?\d\.\d+)$')


def study_outputs(d: Path) -> dict:
    "Two smoke restorers with different weights, a smoke judge recognizer, and a two-face Synth-Test-style folder."
    out = {}
    for seed, name in ((0, 'baseline'), (1, 'id_codeformer')):
        torch.manual_seed(seed)
        m = CodeFormer.from_arch('smoke')
        torch.save({'config': m.config.to_dict(), 'params_ema': m.state_dict()}, d / f'{name}.pt')
        out[name] = str(d / f'{name}.pt')
    cfg = TrainConfig.from_scale('smoke', 'recognizer')
    torch.manual_seed(2)
    torch.save({'config': cfg.to_dict(), 'params': make_recognizer(cfg).state_dict()}, d / 'judge.pt')
    astro, rng = skimage.data.astronaut(), np.random.default_rng(0)
    for k in range(2):
        gt = align_face(astro, align_matrix(ASTRO_LM + rng.normal(0, 2, (5, 2)), 32), 32)
        write_image(d / 'test' / 'hq' / f'face{k}.png', gt)
        write_image(d / 'test' / 'severe' / f'face{k}.png', cv2.resize(cv2.resize(gt, (10, 10), interpolation=cv2.INTER_AREA), (32, 32)))
    return {**out, 'judge': str(d / 'judge.pt'), 'test_set': str(d / 'test')}


def with_parameters(params: dict, dest: Path) -> Path:
    "nbs/explore.ipynb with `params` injected after its parameters cell, as papermill injects them."
    nb = papermill.parameterize.parameterize_notebook(papermill.iorw.load_notebook_node(str(ROOT / 'nbs' / 'explore.ipynb')), params)
    nbformat.write(nb, dest)
    return dest


def test_explorer_without_the_study_says_what_to_run(tmp_path):
    nb = with_parameters({'baseline': str(tmp_path / 'base-III' / 'model.pt')}, tmp_path / 'explore.ipynb')
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}
    out = tmp_path / 'ran.ipynb'
    r = subprocess.run([sys.executable, '-m', 'papermill', str(nb), str(out), '--cwd', str(tmp_path)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    text = ''.join(o.get('text', '') for c in nbformat.read(out, as_version=4).cells for o in c.get('outputs', []))
    assert "The explorer needs the study's outputs" in text and str(tmp_path / 'base-III' / 'model.pt') in text
    assert '`make study` (' in text and 'Traceback' not in text


def _browser():
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    driver = shutil.which('chromedriver')
    if not (chromium and driver):
        raise RuntimeError('the browser test needs Debian\'s chromium and chromium-driver (scripts/test.sh installs them as root: '
                           'apt-get install chromium chromium-driver)')
    return chromium, driver


@pytest.fixture
def lab(tmp_path):
    "JupyterLab on a free localhost port, serving a folder that holds the parameterised explorer notebook."
    with_parameters(study_outputs(tmp_path), tmp_path / 'explore.ipynb')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}
    env.update(OMP_NUM_THREADS='1', JUPYTER_RUNTIME_DIR=str(tmp_path / 'rt'), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / 'ws'),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / 'settings'))
    news = tmp_path / 'settings' / '@jupyterlab' / 'apputils-extension' / 'notification.jupyterlab-settings'
    news.parent.mkdir(parents=True); news.write_text(json.dumps({'fetchNews': 'false'}))    # no news prompt over the page
    log = open(tmp_path / 'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp_path}', '--LabApp.expose_app_in_browser=True',
                             '--LabApp.news_url=', '--ServerApp.port_retries=0', *(['--allow-root'] if os.geteuid() == 0 else [])], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            if proc.poll() is not None: raise RuntimeError(f'JupyterLab exited: {(tmp_path / "lab.log").read_text()[-2000:]}')
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: raise RuntimeError(f'JupyterLab did not answer on {url}')
        yield url, token
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()


def test_explorer_in_chromium(lab):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    url, token = lab
    chromium, driver = _browser()
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,1000'):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        wait = WebDriverWait(drv, 180, poll_frequency=0.5)
        drv.get(f'{url}/lab/tree/explore.ipynb?token={token}')
        kernel_idle = ("const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                       "const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
                       "return !!k && k.status === 'idle';")
        wait.until(lambda d: d.execute_script(kernel_idle))
        drv.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")

        def shown():
            "(caption of each restoration, src of each image) as the page shows them now."
            caps = drv.execute_script("return Array.from(document.querySelectorAll('.widget-html-content')).map(e => e.innerText)")
            caps = [CAPTION.match(' '.join(c.split())) for c in caps]
            srcs = drv.execute_script("return Array.from(document.querySelectorAll('img.widget-image')).map(e => e.src)")
            return [(m.group(1), float(m.group(2)), float(m.group(3))) for m in caps if m], srcs

        wait.until(lambda d: len(shown()[0]) == 2 and len(shown()[1]) >= 4)
        (before, src_before) = shown()
        assert [(name, w) for name, w, _ in before] == [('CodeFormer', 0.5), ('ID-CodeFormer', 0.5)], before
        handle = drv.find_element(By.CSS_SELECTOR, '.widget-slider .noUi-handle')
        handle.click()
        for _ in range(6): handle.send_keys(Keys.ARROW_RIGHT)          # 6 steps of 0.05: w 0.5 → 0.8
        wait.until(lambda d: [w for _, w, _ in shown()[0]] == [0.8, 0.8])
        time.sleep(1.0)                                                  # the images arrive with the captions
        after, src_after = shown()
        drv.execute_script("document.querySelector('.widget-slider').scrollIntoView({block: 'start'})")
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        drv.save_screenshot(str(SHOT))
        print(f'explorer in Chromium: {before} → {after}; screenshot {SHOT}')
        assert all(a[2] != b[2] for a, b in zip(after, before)), (before, after)     # both IDS captions changed
        assert src_after[1] != src_before[1] and src_after[2] != src_before[2]       # both restorations were redrawn
        assert src_after[0] == src_before[0] and src_after[3] == src_before[3]       # the input and GT stayed
    finally:
        drv.quit()
