"""Many runs at once: sweeps over settings (on Ray when asked) and the reproduction of the paper.

May import ``mfagents.api`` and everything below it; never commands."""
