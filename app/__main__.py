"""``python -m app`` runs the launcher, the same as ``mor-launch``."""

import sys

from app.launcher import main

sys.exit(main())
