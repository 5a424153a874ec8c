"""reportlib: support-operations reporting from contact-centre, workforce and HR data."""

__version__ = "0.1.0"
