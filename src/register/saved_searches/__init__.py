"""An operation's saved searches: kept sealed, listed under the operation, run again, deleted."""
