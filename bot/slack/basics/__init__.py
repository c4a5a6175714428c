"""Small values of the Slack layer: ids, payload readers, limits, filters."""
