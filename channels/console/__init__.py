"""The office console: the coordinators' desk in the browser, one more adapter on the same
services as the messengers (``server.py`` builds it, ``pages/`` holds its sections)."""
