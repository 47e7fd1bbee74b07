"""`python -m wildwatch` is the `wildwatch` command."""
from wildwatch.cli import app

app()
