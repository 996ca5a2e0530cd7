"""Entry point of `python -m finetune`."""

import sys

from .cli import main

sys.exit(main())
