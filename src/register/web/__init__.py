"""The web interface: pages rendered on the server by the same application, calling the same use cases as the
API."""
