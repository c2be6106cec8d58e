"""Deadlines and the sweep that enforces them: `clock` counts working time, `sweep` raises the warnings."""
