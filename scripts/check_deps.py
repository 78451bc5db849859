"""`pip check`, with one known conflict allowed: facenet-pytorch 2.6.0 declares torch<2.3, torchvision<0.18,
numpy<2 and Pillow<10.3, yet its MTCNN runs on the locked versions (the lock installs it with --no-deps; its
detections are tested in nbs/08b_faces.ipynb). Any other line of `pip check` fails the environment."""
import re, subprocess, sys

ALLOWED = re.compile(r'^facenet-pytorch 2\.6\.0 has requirement (torch|torchvision|numpy|Pillow)[<>=!,.0-9]+, but you have ')


def problems(report: str) -> list[str]:
    "The lines of a `pip check` report that are not the allowed facenet-pytorch conflict."
    return [l for l in report.splitlines() if l.strip() and l != 'No broken requirements found.' and not ALLOWED.match(l)]


def main() -> int:
    r = subprocess.run([sys.executable, '-m', 'pip', 'check'], capture_output=True, text=True)
    bad = problems(r.stdout + r.stderr)
    allowed = [l for l in r.stdout.splitlines() if ALLOWED.match(l)]
    if bad:
        print('pip check found conflicts besides the documented facenet-pytorch one:', *bad, sep='\n  ', file=sys.stderr)
        return 1
    print('pip check: consistent' + (f' apart from the documented facenet-pytorch pins ({len(allowed)} lines)' if allowed else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
