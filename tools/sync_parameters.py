"""Copy the smoke profile's settings (prunelib/profiles.yaml) into the parameters cell of every source notebook.

    python tools/sync_parameters.py
"""
from pathlib import Path

from prunelib import parameters

for notebook in sorted(Path(__file__).resolve().parents[1].glob("notebooks/*.ipynb")):
    for name, (old, new) in parameters.sync(notebook).items():
        print(f"{notebook.name}: {name} = {new!r} (was {old!r})")
