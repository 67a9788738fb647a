"""The offline demo: the real bot against the local Bot API server, shown in a browser.

``lotsenbot demo`` runs :func:`handlers.runner.serve` against :mod:`bot.fakeapi` in one
process, seeds a small demo world through the bot itself and serves a page with a phone per
person. Nothing leaves the machine.
"""
