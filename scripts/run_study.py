"""Run the SynthFaces study end to end, resuming finished steps (`make study`, `make quick`).

Steps, each a papermill execution of an experiment notebook into its own run folder under
runs/<size>/ (the executed notebook is kept there): Synth-Test and its measuring instruments →
the loss and judge recognizers → stage I → stages II and III of the baseline and of ID-CodeFormer →
evaluation of the LQ inputs and both models → the ablation → tables and figures → the paper PDF when
latexmk is installed. Steps that do not need each other run at the same time, `--jobs` of them (default 2,
each with cores/jobs CPU threads; on 2 cores the smoke study took 160 s with 2 jobs and 299 s with 1); the
longest remaining chain goes first, and `--jobs 1` runs the steps one after the other in the listed order.
A step whose `step_done.json` exists is skipped, so an interrupted study resumes; after a failure no new
step starts, the running ones finish, and the error names the failed step and its executed notebook.
After each step its small records (configs, logs, per-image CSVs, summaries, stripped notebooks) are copied to
<results>/runs/<size>/, from which nbs/figures.ipynb rebuilds every table and figure.

Study sizes (idcodeformer.plan.STUDY_SIZES): synth (the paper's study, three seeds of both models: about 230 minutes on
2 CPU cores, two steps at a time; writes results/), gpu128 (the same plan at 128 px with every training and evaluation
step on CUDA; writes runs/gpu128/results/), quick (a first look in a few minutes; writes runs/quick/results/), smoke
(seconds per step; for tests).
"""
import argparse, os, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    from idcodeformer.plan import STUDY_SIZES
    ap.add_argument('--size', default='synth', choices=list(STUDY_SIZES))
    ap.add_argument('--runs', type=Path, help='runs folder of this study size (default: runs/<size>)')
    ap.add_argument('--results', type=Path, help='where tables, figures and records go (default: results/ for synth, '
                                                  'runs/<size>/results/ otherwise, so a quick look never overwrites the paper\'s results)')
    ap.add_argument('--list', action='store_true', help='list the steps and whether each is done, then stop')
    ap.add_argument('--until', metavar='STEP', help='stop after this step')
    ap.add_argument('--no-paper', action='store_true', help='do not build the paper PDF')
    ap.add_argument('--jobs', type=int, default=2, metavar='N',
                    help='steps run at the same time, each with cores/N CPU threads (default 2; 1: one after the other)')
    a = ap.parse_args(argv)
    if a.jobs < 1: ap.error(f'--jobs {a.jobs}: expected 1 or more')

    from idcodeformer.plan import NOTEBOOKS, step_folder, study_plan, study_size
    from idcodeformer.study import run_steps, step_status, step_threads
    study = study_size(a.size)
    runs = (a.runs or ROOT/'runs'/a.size).resolve()
    results = (a.results or (ROOT/'results' if a.size == 'synth' else runs/'results')).resolve()
    plan = study_plan(study, runs, results)
    if a.until:
        names = [s.name for s in plan]
        if a.until not in names: ap.error(f'--until {a.until!r}: expected one of {", ".join(names)}')
        plan = plan[:names.index(a.until) + 1]

    missing = sorted({NOTEBOOKS[s.kind] for s in plan if not (ROOT/NOTEBOOKS[s.kind]).is_file()})
    threads = step_threads(a.jobs)
    print(f'study size {a.size}: {len(plan)} steps, {a.jobs} at a time ({threads} thread{"s" if threads > 1 else ""} each); '
          f'runs in {runs}; records and tables in {results}')
    for i, s in enumerate(plan):
        try: status = step_status(step_folder(s, runs), s.params)
        except ValueError as e: status = f'CONFLICT: {e}'
        print(f'  {i + 1:2d}. {s.name:12s} {NOTEBOOKS[s.kind]:22s} {status}')
    if missing:
        print(f'error: notebook(s) not found: {", ".join(missing)}', file=sys.stderr)
        return 1
    if a.list: return 0

    os.environ.setdefault('MPLBACKEND', 'Agg')
    t0 = time.time()
    run_steps(plan, runs, root=ROOT, records=results/'runs'/a.size, log=lambda m: print(m, flush=True), jobs=a.jobs)
    print(f'study {a.size}: all {len(plan)} steps done in {(time.time() - t0) / 60:.1f} min; tables in {results/"tables"}, '
          f'figures in {results/"figures"}')
    if a.no_paper or a.until or results != (ROOT/'results').resolve(): return 0
    if shutil.which('latexmk') is None:
        print('paper: latexmk not found, PDF not built. Install TeX (Debian/Ubuntu): sudo apt-get install latexmk '
              'texlive-latex-extra texlive-fonts-recommended texlive-science; then run `make paper`.')
        return 0
    rc = subprocess.call(['bash', str(ROOT/'scripts'/'paper.sh')])
    print('paper: paper/main.pdf built' if rc == 0 else f'paper: scripts/paper.sh failed (exit {rc}); see paper/main.log')
    return rc


if __name__ == '__main__':
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `--list | head` ends quietly instead of with a BrokenPipeError
    sys.exit(main())
