"""Policy analysis: sweeps, sensitivity, scenario discovery."""
