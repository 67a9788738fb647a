"""The offline demo: the real bot against the local Bot API server, shown in a browser.

``lotsenbot demo`` runs :func:`channels.runner.serve` against
:mod:`channels.telegram.fakeapi` in one process, seeds a small demo world through the bot
itself and serves a page with a phone per person. Nothing leaves the machine.
"""
