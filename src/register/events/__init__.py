"""The agencies' event feed and webhooks (docs/events.md)."""
