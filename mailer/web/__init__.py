"""`serve`: the web pages of cop-mailer (one-click unsubscribe, members' preferences, the lead's
page). Pages call the same store verbs and flow verbs as the CLI and never hold SQL."""
