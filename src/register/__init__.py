"""The register: an encrypted, audited store of MAPPA nominals shared by police, probation and prisons."""

__version__ = "0.1.0"
