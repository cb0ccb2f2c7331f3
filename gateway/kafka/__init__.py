"""The Kafka entrypoint: consumes case events, runs them through the pipeline, publishes outcomes, commits."""
