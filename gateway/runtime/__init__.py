"""The gateway's runtime: logs, tracing, metrics, the ops port, signals, TLS contexts and the circuit breaker."""
