import sys

from sessions_ui.cli import main

sys.exit(main())
