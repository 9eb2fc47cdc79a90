"""Account tiers (``kind: segments``): the territory plan's Alpha, Beta and Delta accounts.

``model`` builds the document, ``engine.semantics.segments`` checks it, ``compile`` turns its tiers
into one generated function and ``classify`` reads an accounts export (and, optionally, the deals
behind each account) and gives every account exactly one tier with the reason. See docs/forecast.md.
"""
