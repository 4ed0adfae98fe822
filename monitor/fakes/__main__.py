"""`python -m monitor.fakes serve ...`: the same as `monitor fakes serve ...`."""
from monitor.fakes.cli import app

app(prog_name="python -m monitor.fakes")
