// Placeholder removed once suites land: see bench/README.md.
export {}
