"""How policies are scored: greedy evaluation rounds, confidence intervals and ratings, the cross-play arena.

May import ``mfagents.training`` and everything below it; never experiments or commands."""
