"""Who we talk to and what we demand: target files, the requirement catalogue, the detected server."""
