"""The record every benchmark script writes to results/benchmarks/: what ran, where, with which versions."""
import platform, sys
from pathlib import Path

import torch

from idcodeformer.core import atomic_write_json


def write_record(path: Path, script: str, argv, **fields) -> None:
    "Write `fields` with the benchmark's name, its command line, the machine and torch's version to `path` (atomically)."
    args = list(argv if argv is not None else sys.argv[1:])
    atomic_write_json(path, dict(benchmark=Path(script).stem, command=' '.join(['python', f'scripts/{Path(script).name}', *args]),
                                 machine=platform.processor() or platform.machine(), torch=torch.__version__, **fields))
    print(f'wrote {path}')
