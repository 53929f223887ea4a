"""Pieces shared by every mfenvs environment: the PettingZoo adapter, the mean action, argument checks."""
