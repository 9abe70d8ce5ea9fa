#!/usr/bin/env bash
# Vendor the JavaScript the book needs into book/_static/, so that the rendered HTML loads nothing from a CDN
# (it must work offline). Versions are pinned in tools/package.json + package-lock.json.
#
#   book/_static/widgets/  @jupyter-widgets/html-manager: renders the saved ipywidgets state (the explorer's
#                          slider). Must match the installed ipywidgets: 8.1.x -> html-manager 1.0.x
#                          (controls 5.0.x). We ship the *standalone* dist/embed.js (every built-in widget
#                          model bundled, no RequireJS needed) and the Font Awesome woff2 fonts its CSS
#                          refers to (resolved relative to embed.js). Used via nb_ipywidgets_js in _config.yml.
#   book/_static/mathjax/  MathJax 3 tex-chtml-full.js (all TeX extensions built in, so nothing is autoloaded)
#                          and its CHTML woff fonts (resolved relative to the script). Used via mathjax_path.
#
# Run: tools/vendor_js.sh   (needs node/npm and the npm registry; ~15 s). node_modules stays git-ignored.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
static="$here/../book/_static"
cd "$here"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
version() { node -p "require('./node_modules/$1/package.json').version"; }

widgets="$static/widgets"
dist="$here/node_modules/@jupyter-widgets/html-manager/dist"
rm -rf "$widgets" && mkdir -p "$widgets"
cp "$dist/embed.js" "$dist/embed.js.LICENSE.txt" "$dist"/*.woff2 "$widgets/"
printf '@jupyter-widgets/html-manager %s: dist/embed.js and its woff2 fonts (tools/vendor_js.sh)\n' \
  "$(version @jupyter-widgets/html-manager)" > "$widgets/VERSION"

mathjax="$static/mathjax"
es5="$here/node_modules/mathjax/es5"
rm -rf "$mathjax" && mkdir -p "$mathjax/output/chtml/fonts"
cp "$es5/tex-chtml-full.js" "$mathjax/"
cp -r "$es5/output/chtml/fonts/woff-v2" "$mathjax/output/chtml/fonts/"
cp "$here/node_modules/mathjax/LICENSE" "$mathjax/LICENSE"
printf 'mathjax %s: es5/tex-chtml-full.js and its CHTML woff fonts (tools/vendor_js.sh)\n' \
  "$(version mathjax)" > "$mathjax/VERSION"
du -sh "$widgets" "$mathjax"
