# The two commands of the quick start. Everything else is a detail of these.
.PHONY: demo test venv

# Run the register on its embedded default: SQLite, development keys, demo data.
demo:
	@bash scripts/demo.sh $(ARGS)

# Run the whole test suite against SQLite and a throwaway real PostgreSQL server.
test:
	@bash scripts/test.sh

venv:
	@bash scripts/bootstrap.sh
