"""Every write to a case, one module per stage of its workflow."""
