"""Demo data for this app, called by `manage.py load_demo`. Not yet written."""


def load(*, seed: int, stdout, **options) -> None:
    stdout.write("  nothing to load yet")
