"""Developer and operator tools: terminal chat, evaluation, benchmarks."""
