"""An offender manager's caseload: the people they manage and what is due on each (domain/caseload.py)."""
