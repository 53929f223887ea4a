"""The ``mfzoo`` command line: ``cli`` parses, one module per subcommand runs it, with its help text.

The top floor: may import any room of ``mfagents``; no other room imports it."""
