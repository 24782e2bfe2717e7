# The two commands of the quick start. Everything else is a detail of these.
.PHONY: demo test bench venv client

# Run the register on its embedded default: SQLite, development keys, demo data.
demo:
	@bash scripts/demo.sh $(ARGS)

# Run the whole test suite against SQLite and a throwaway real PostgreSQL server.
test:
	@bash scripts/test.sh

# Benchmarks on demand (100,000 people by default; ARGS="--nominals 5000" for a quick look): docs/benchmarks.md.
bench:
	@bash scripts/bench.sh $(ARGS)

# The Python client generated from the OpenAPI document: dist/register-client (docs/api.md).
client:
	@bash scripts/client.sh

venv:
	@bash scripts/bootstrap.sh
