import sys

from agentrec.cli import main

sys.exit(main())
