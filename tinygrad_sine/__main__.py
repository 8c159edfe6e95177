"""``python -m tinygrad_sine`` is the ``tinygrad-sine`` command."""

from .cli import main

raise SystemExit(main())
