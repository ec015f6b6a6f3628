"""The browser UI: server-rendered Jinja2 pages over the same services as the JSON API."""
