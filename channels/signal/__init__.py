"""Signal, through signal-cli's JSON-RPC daemon over HTTP (``signal-cli daemon --http``)."""
