"""Banc de mesure HTTP de Dauphin (`make bench`) ; ne fait pas partie de l'application ni des tests."""
