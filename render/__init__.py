"""Pygame drawing for every mfenvs environment: pure ``draw(core, surface)`` functions plus a window.

pygame is imported only by the submodules, so ``import render`` stays cheap.
"""
