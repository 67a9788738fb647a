"""The console's sections, one module each with ``routes = web.RouteTableDef()``; listed in
:data:`channels.console.server.PAGES`."""
