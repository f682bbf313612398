import sys

from gatekeeper.entrypoints.cli import main

sys.exit(main())
