"""One module per Slack surface: command, shortcut, mention, follow, home, modal, actions. New
surfaces (OAuth, unfurls, workflow functions) go here.
"""
