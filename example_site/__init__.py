"""A small "existing" Flask site (a team directory) that embeds flask-videochat.

Run it with ``python -m example_site [--host H] [--port P]``. The app itself lives in
:mod:`example_site.app` so that ``__main__`` can monkey-patch eventlet before Flask
is imported.
"""
