"""Coverage-guided fuzzing (atheris) of every decoder of wire and file input; see docs/fuzzing.md."""
