"""How we talk to a server: the client, its exchanges, auth, multipart, the store and its ledger."""
