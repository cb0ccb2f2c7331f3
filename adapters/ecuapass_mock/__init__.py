"""The mock Ecuapass endpoint: a stateful, rule-enforcing customs service for tests, demos and certification."""
