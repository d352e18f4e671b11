"""Measurements of the server: make bench (bench.load), make soak (bench.soak), make attack (bench.attack).

The modules here are what they share: the server harness, machine facts, scenarios and report files.
"""
