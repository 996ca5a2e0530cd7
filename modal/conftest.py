"""Make `finetune` and `app` importable however pytest is started (from modal/ or the repo root)."""

import sys
from pathlib import Path

MODAL_DIR = Path(__file__).resolve().parent
if str(MODAL_DIR) not in sys.path:
    sys.path.insert(0, str(MODAL_DIR))
