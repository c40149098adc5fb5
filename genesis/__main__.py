import sys

from genesis.cli import main

sys.exit(main())
