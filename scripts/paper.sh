#!/usr/bin/env bash
# Build paper/main.pdf with latexmk when TeX is installed; otherwise say how to install it.
set -euo pipefail
cd "$(dirname "$0")/../paper"
if ! command -v latexmk >/dev/null; then
  echo "latexmk not found. Install TeX (Debian/Ubuntu): sudo apt-get install latexmk texlive-latex-extra texlive-fonts-recommended texlive-science"
  exit 1
fi
[ -f main.tex ] || { echo "paper/main.tex does not exist yet"; exit 1; }
latexmk -pdf -interaction=nonstopmode -halt-on-error main.tex
