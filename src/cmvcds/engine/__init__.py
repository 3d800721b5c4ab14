"""Pure clinical logic, one module per question; each returns ``domain.results`` values."""
