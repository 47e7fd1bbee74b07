"""``python -m bench [--quick]``: the same as ``wildwatch bench``."""
import sys

from wildwatch.cli import app

if __name__ == "__main__":
    app(["bench", *sys.argv[1:]])
