"""Operator tools: validate, dlq, case and tail, examples, JSON Schemas, AsyncAPI, the README's generated parts."""
