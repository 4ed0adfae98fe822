"""`monitor fakes serve`: the fake platforms on their own, for trying the daemon or the web app
without accounts, and for testing the tool from outside (control endpoints in README.md)."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="The local fake platforms (X, Facebook, Instagram, Reddit, Google reviews).",
                  no_args_is_help=True, add_completion=False)


@app.callback()
def _group() -> None:
    """The local fake platforms: serve them alone (`serve`)."""


def posts_for(seed: str) -> Any:
    """"demo" (the packaged demo posts), a number of generated posts, "none", or a TOML file of
    [[posts]] like monitor/data/demo_posts.toml."""
    from monitor.fakes.demo import generated_posts, load_demo_posts
    if seed == "demo":
        return load_demo_posts()
    if seed == "none":
        return []
    if seed.isdigit():
        return generated_posts(int(seed))
    if Path(seed).is_file():
        return load_demo_posts(seed)
    raise typer.BadParameter("use demo, none, a number of posts, or a TOML file of [[posts]]", param_hint="--seed")


def sources_toml(base_url: str) -> str:
    """The [[sources]] that point at the fake (its demo accounts)."""
    import json

    from monitor.fakes.demo import demo_sources
    return "".join("\n[[sources]]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in source.items())
                   for source in demo_sources(base_url))


@app.command("serve")
def serve(seed: str = typer.Option("demo", "--seed", help="demo (the demo posts), N (that many generated posts), none, or a TOML file of [[posts]]."),
          port: int = typer.Option(8900, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."),
          page_size: int = typer.Option(3, "--page-size", min=1, max=100, help="Items per page the fake answers with.")) -> None:
    """Serve the fake platforms on 127.0.0.1 until Ctrl-C or SIGTERM.

    Prints the address, the [[sources]] to put into settings.toml and the fake credentials to
    export; then serves. Control endpoints: see "The fake platforms" in README.md.
    """
    from monitor.fakes import FakePlatforms
    from monitor.fakes.demo import demo_secret_env, demo_sources, seed_posts

    posts = posts_for(seed)
    try:
        fake = FakePlatforms.start(page_size=page_size, port=port)
    except OSError as exc:
        typer.echo(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); choose another --port", err=True)
        raise typer.Exit(2)
    stop = threading.Event()
    try:
        seed_posts(fake, posts)
        typer.echo(f"fake platforms serving on {fake.base_url} with {len(posts)} post(s); Ctrl-C stops")
        typer.echo("--- sources for settings.toml ---" + sources_toml(fake.base_url))
        typer.echo("--- their fake credentials, for the shell ---")
        for name, value in demo_secret_env(demo_sources(fake.base_url)).items():
            typer.echo(f"export {name}={value}")
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        fake.stop()
    typer.echo("fake platforms stopped")
