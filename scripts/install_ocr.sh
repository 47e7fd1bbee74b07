#!/usr/bin/env bash
# Make sure Tesseract (with Simplified Chinese, Traditional Chinese and English data) and a CJK font
# are installed: OCR of listing images (wildwatch ocr) needs the first, the demo's generated pictures
# the second. Like scripts/install_browser.sh: Debian's packages through apt when we may use it.
set -euo pipefail
PACKAGES=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng fonts-wqy-microhei)

have_ocr() {
  command -v tesseract >/dev/null 2>&1 || return 1
  local langs
  langs=$(tesseract --list-langs 2>/dev/null) || return 1
  for lang in chi_sim chi_tra eng; do
    grep -qx "$lang" <<<"$langs" || return 1
  done
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || return 1
  echo "ocr: $(tesseract --version 2>/dev/null | head -1) (chi_sim, chi_tra, eng)"
}

if have_ocr; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "installing Debian's tesseract-ocr with chi_sim, chi_tra, eng and a CJK font (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "installing Debian's tesseract-ocr with chi_sim, chi_tra, eng and a CJK font (sudo apt-get)"
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
fi

have_ocr || { echo "error: Tesseract with chi_sim, chi_tra and eng, and fonts-wqy-microhei, are needed: install ${PACKAGES[*]}" >&2; exit 1; }
